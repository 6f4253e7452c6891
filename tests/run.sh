#!/bin/sh
# Run test binaries one after another, keep going after a failure, print a
# summary, and exit 1 if any failed. cmocka's own summary lines pass through.
fail=0; failed=""
for t in "$@"; do
    echo "=== $(basename "$t")"
    if ! timeout 600 "$t"; then
        fail=$((fail + 1)); failed="$failed $(basename "$t")"
    fi
done
echo "=== $# test programs, $fail failed${failed:+:$failed}"
[ "$fail" -eq 0 ]
