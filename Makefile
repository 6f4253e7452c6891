# poenet — plain GNU make. `make help` lists the targets.
#   make              build the daemons and tools into build/bin
#   make test         unit + integration tests (cmocka); SANITIZE=address,undefined for ASan+UBSan
#   make test-tsan    the threaded collector's hand-offs under ThreadSanitizer (build-tsan/)
#   make demo         rrdcached + collector + simulated agents on loopback (DEMO_SECONDS=N to stop)
#   make bench        ingest / latency / HTTP / memory figures
#   make test-network the national network under chaos, with its end checks and figures (root)
#   make network      national network in namespaces: 3 regions + national, every crossing (root; NETWORK_SECONDS=N)
#   make deps         install the Debian packages the build and tests need

CC       ?= cc
# No built-in implicit rules: every rule is written here, and make's own
# (%.c from %.y, RCS, SCCS...) only multiply its search for included files.
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:
PKGS     := libzmq libprotobuf-c librrd libevent jansson libconfig zlib libcurl
SANITIZE ?=
# ThreadSanitizer cannot share objects with ASan: its own tree.
BUILD    ?= $(if $(filter thread,$(SANITIZE)),build-tsan,$(if $(SANITIZE),build-san,build))

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP
# Include paths follow the rooms (docs/architecture.md): a room sees its own
# headers and those of the rooms below it, nothing else. common and proto are
# the floor; transport stands on them; agent and collector are siblings on
# transport (neither sees the other); tools see the collector's archive and
# registry; only tests and benchmarks see tests/lib. The room of a source
# file is its top-level folder.
INC_common    := -Icommon -Iproto -I$(BUILD)/proto
INC_proto     := $(INC_common)
INC_transport := $(INC_common) -Itransport
INC_agent     := $(INC_transport) -Iagent
INC_collector := $(INC_transport) -Icollector
INC_tools     := $(INC_collector)
INC_tests     := $(INC_transport) -Iagent -Icollector -Itools/report -Itests/lib
INC_bench     := $(INC_tests)
ROOM_INC       = $(INC_$(firstword $(subst /, ,$(patsubst $(BUILD)/%,%,$<))))
CPPFLAGS += $(ROOM_INC) -I$(dir $<)
# Each program records only the libraries it calls: the collector does not
# load libcurl's TLS stack, which only poe-fetch uses (collector/fetch.h).
LDFLAGS  += -Wl,--as-needed
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

# pkg-config runs lazily so `make deps` works before the packages exist.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lm
TEST_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null)

PROTO_C   := $(BUILD)/proto/poenet.pb-c.c
COMMON_SRC := $(wildcard common/*.c) $(wildcard proto/*.c)
TRANS_SRC  := $(wildcard transport/*.c)
AGENT_SRC  := $(filter-out agent/main.c,$(wildcard agent/*.c))
COLL_SRC   := $(filter-out collector/main.c,$(wildcard collector/*.c))
# Each tools/<name>/ folder is one command, build/bin/poe-<name>.
TOOL_DIRS  := $(patsubst tools/%/,%,$(sort $(dir $(wildcard tools/*/*.c))))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
COMMON_OBJ := $(call obj,$(COMMON_SRC)) $(BUILD)/proto/poenet.pb-c.o
TRANS_OBJ  := $(call obj,$(TRANS_SRC))
AGENT_OBJ  := $(call obj,$(AGENT_SRC))
COLL_OBJ   := $(call obj,$(COLL_SRC))

LIBCOMMON := $(BUILD)/libpoecommon.a
LIBTRANS  := $(BUILD)/libpoetransport.a
LIBAGENT  := $(BUILD)/libpoeagent.a
LIBCOLL   := $(BUILD)/libpoecollector.a
LIBS_ALL  := $(LIBCOLL) $(LIBAGENT) $(LIBTRANS) $(LIBCOMMON)

BINS := $(BUILD)/bin/poe-agent $(BUILD)/bin/poe-collector \
        $(patsubst %,$(BUILD)/bin/poe-%,$(TOOL_DIRS))

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
TESTLIB_SRC := $(wildcard tests/lib/*.c)
FAULT_SRC := $(wildcard tests/fault/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FAULT_BIN := $(patsubst tests/fault/%.c,$(BUILD)/tests/%,$(FAULT_SRC))
INTEG_BIN := $(patsubst tests/integration/%.c,$(BUILD)/tests/%,$(INTEG_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps deps-check test test-unit test-integration test-fault test-tsan demo bench network test-network clean help
.DEFAULT_GOAL := all

all: $(BINS) $(BUILD)/report-i18n.ok

# The report's catalogs (tools/report/i18n) are checked as the dashboards'
# are: every language has every key with the same placeholders, and every
# key poe-report needs is there (poe-report check-i18n).
$(BUILD)/report-i18n.ok: $(wildcard tools/report/i18n/*.json) $(BUILD)/bin/poe-report
	@$(BUILD)/bin/poe-report check-i18n --i18n tools/report/i18n --lang en >/dev/null
	@touch $@

help:
	@sed -n '2,8p' Makefile

# ---- dependencies -----------------------------------------------------------
deps:
	@deploy/install-deps.sh install

# Quiet check; installs only when something is missing.
deps-check:
	@deploy/install-deps.sh check || deploy/install-deps.sh install

# ---- code generation and compilation ---------------------------------------
$(BUILD)/proto/poenet.pb-c.c $(BUILD)/proto/poenet.pb-c.h: proto/poenet.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --proto_path=proto --c_out=$(BUILD)/proto proto/poenet.proto

# Every object may include the generated header.
$(BUILD)/%.o: %.c $(BUILD)/proto/poenet.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/proto/poenet.pb-c.o: $(PROTO_C)
	$(CC) $(CPPFLAGS) $(filter-out -Werror,$(CFLAGS)) $(PKG_CFLAGS) -c $< -o $@

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@; ar rcs $@ $^
$(LIBTRANS): $(TRANS_OBJ)
	@rm -f $@; ar rcs $@ $^
$(LIBAGENT): $(AGENT_OBJ)
	@rm -f $@; ar rcs $@ $^ $(if $^,,$(COMMON_OBJ))
$(LIBCOLL): $(COLL_OBJ)
	@rm -f $@; ar rcs $@ $^ $(if $^,,$(COMMON_OBJ))

$(BUILD)/bin/poe-agent: $(BUILD)/agent/main.o $(LIBAGENT) $(LIBTRANS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# A collector that forwards upstream delivers as agents do: through transport/.
$(BUILD)/bin/poe-collector: $(BUILD)/collector/main.o $(LIBCOLL) $(LIBTRANS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

define TOOL_RULE
$(BUILD)/bin/poe-$(1): $(call obj,$(wildcard tools/$(1)/*.c)) $(LIBS_ALL)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach t,$(TOOL_DIRS),$(eval $(call TOOL_RULE,$(t))))

# Static pattern rules (each over its own list): a bare `$(BUILD)/tests/%`
# matches anything under build/tests, and GNU make 4.3 then chains the
# three of them through each other for every dependency file it includes
# (build/tests/lib/x.d <- build/tests/unit/lib/x.d.o <- ...), which took
# minutes and gigabytes once enough .d files existed.
$(filter-out $(BUILD)/tests/test_report_i18n,$(UNIT_BIN)): $(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(call obj,$(TESTLIB_SRC)) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(INTEG_BIN): $(BUILD)/tests/%: $(BUILD)/tests/integration/%.o $(call obj,$(TESTLIB_SRC)) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

# The audit's analysis is pure and tested on its own (tools/report/offaudit.c).
$(BUILD)/tests/test_offaudit: $(BUILD)/tools/report/offaudit.o
# The report's Markdown writers in each language, from fixed figures: the
# report's objects go before the libraries they call into.
REPORT_I18N_OBJ := $(call obj,tools/report/output.c tools/report/rtext.c tools/report/scan.c)
$(BUILD)/tests/test_report_i18n: $(BUILD)/tests/unit/test_report_i18n.o $(REPORT_I18N_OBJ) \
    $(call obj,$(TESTLIB_SRC)) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(FAULT_BIN): $(BUILD)/tests/%: $(BUILD)/tests/fault/%.o $(call obj,$(TESTLIB_SRC)) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(BENCH_BIN): $(BUILD)/bench/%: $(BUILD)/bench/%.o $(call obj,$(TESTLIB_SRC)) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# ---- tests --------------------------------------------------------------------
# Each binary prints cmocka's own summary; tests/run.sh runs them all, keeps
# going after a failure and exits non-zero if any failed.
# Under ThreadSanitizer every program (tests and the daemons they start)
# reads its options from the environment: libraries not built with TSan are
# suppressed (tests/tsan.supp), and a race makes the program exit non-zero.
TEST_ENV = $(if $(filter thread,$(SANITIZE)),TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp exitcode=66",)

test: deps-check all $(UNIT_BIN) $(INTEG_BIN) $(FAULT_BIN)
	@$(TEST_ENV) POE_BIN=$(abspath $(BUILD)/bin) tests/run.sh $(UNIT_BIN) $(INTEG_BIN) $(FAULT_BIN)

test-unit: deps-check all $(UNIT_BIN)
	@$(TEST_ENV) POE_BIN=$(abspath $(BUILD)/bin) tests/run.sh $(UNIT_BIN)

test-integration: deps-check all $(INTEG_BIN)
	@$(TEST_ENV) POE_BIN=$(abspath $(BUILD)/bin) tests/run.sh $(INTEG_BIN)

# The zero-loss fault suite (tests/fault): about 4 minutes, root for the
# partition and disk-full cases (skipped otherwise).
test-fault: deps-check all $(FAULT_BIN)
	@$(TEST_ENV) POE_BIN=$(abspath $(BUILD)/bin) tests/run.sh $(FAULT_BIN)

# Every test that drives the HTTP worker threads, the publisher and the
# main loop's jobs (the thread hand-offs), under ThreadSanitizer; CI runs it.
TSAN_TESTS := test_reclaim test_bgjob test_archive test_archive_reader test_ingest test_http test_serve_consistency test_docroot test_reload test_pipeline test_security test_sse test_importer
test-tsan: deps-check
	@$(MAKE) --no-print-directory SANITIZE=thread all $(patsubst %,build-tsan/tests/%,$(TSAN_TESTS))
	@TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp exitcode=66" POE_BIN=$(abspath build-tsan/bin) \
	    tests/run.sh $(patsubst %,build-tsan/tests/%,$(TSAN_TESTS))

# ---- demo and benchmarks ----------------------------------------------------
demo: deps-check all
	@POE_BIN=$(abspath $(BUILD)/bin) deploy/demo.sh

# The national network on this machine (deploy/network.sh; root): three
# regional collectors and a national one in network namespaces, a simulated
# agent per crossing direction of the registry. NETWORK_SECONDS=N stops it.
network: deps-check all
	@POE_BIN=$(abspath $(BUILD)/bin) deploy/network.sh run

# The chaos run over that network (bench/network.c; root; docs/operations.md
# "The network bench"): faults one after another, then exactly-once and
# national = regions checks, and the figures. NETWORK_CROSSINGS=12 by default.
test-network: deps-check all $(BUILD)/bench/network
	@POE_BIN=$(abspath $(BUILD)/bin) $(BUILD)/bench/network

bench: deps-check all $(BENCH_BIN)
	@POE_BIN=$(abspath $(BUILD)/bin) BENCH_BIN=$(abspath $(BUILD)/bench) bench/run.sh

clean:
	rm -rf build build-san build-tsan

.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- fuzzing (tests/fuzz) ----------------------------------------------------
# make fuzz [FUZZ_SECONDS=60]: build the libFuzzer targets tests/fuzz/fuzz_*.c
# with clang-14 (ASan + UBSan) into build-fuzz/bin and run each for
# FUZZ_SECONDS on a copy of its seed corpus (tests/fuzz/corpus/<target>, so
# the repository is never written). Fails when any target finds a crash; the
# reproducer is in build-fuzz/work/<target>/ (docs/security.md).
# make fuzz-seeds regenerates the packed-batch seeds of fuzz_wire.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build-fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(patsubst %,$(FUZZ_DIR)/bin/%,$(FUZZ_TARGETS))
FUZZ_SRC     := common/log.c common/taxonomy.c common/timeutil.c common/conf.c proto/wire.c \
                proto/sensor.c agent/aggregate.c agent/reident.c \
                collector/registry.c collector/validate.c collector/stats.c collector/route.c \
                $(wildcard collector/hours.c collector/zone.c) \
                collector/official_text.c collector/official_cbp.c collector/official_cbsa.c \
                collector/httpconn.c collector/httpreq.c collector/http_cache.c common/reclaim.c \
                common/fileio.c collector/fetch.c
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_SRC)) $(FUZZ_DIR)/obj/poenet.pb-c.o
FUZZ_FLAGS   := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra \
                -fsanitize=address,undefined -fno-sanitize-recover=all \
                -Icommon -Iproto -I$(dir $(PROTO_C)) -Itransport -Iagent -Icollector
FUZZ_LIBS     = $(shell pkg-config --libs libprotobuf-c libconfig jansson libevent zlib 2>/dev/null) -lhttp_parser
# libFuzzer options of every run: a unit slower than 10 s is a finding too
# (make the run longer than that, or a stuck unit ends with the run, unseen).
FUZZ_OPTS    ?= -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 -print_final_stats=1
# FUZZ_SEED=N fixes libFuzzer's random seed: the run is then the same
# sequence of inputs on every machine, cut where the time runs out. CI uses
# it, so a submission is judged on a run that was replayed here first; the
# unseeded runs (the default) are the exploration (docs/security.md).
FUZZ_SEED    ?=

.PHONY: fuzz fuzz-build fuzz-seeds
fuzz-build: $(FUZZ_BIN)

$(FUZZ_DIR)/obj/poenet.pb-c.o: $(PROTO_C)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/%.o: %.c $(PROTO_C)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Werror -MMD -MP -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/bin/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Werror -fsanitize=fuzzer $^ -o $@ $(FUZZ_LIBS)

# The seed generator is an ordinary program linked with the same objects.
$(FUZZ_DIR)/seeds: tests/fuzz/seeds.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Werror -fsanitize=fuzzer-no-link $^ -o $@ $(FUZZ_LIBS)

fuzz-seeds: $(FUZZ_DIR)/seeds
	$(FUZZ_DIR)/seeds tests/fuzz/corpus/fuzz_wire

fuzz: $(FUZZ_BIN)
	@failed=""; for t in $(FUZZ_TARGETS); do \
	  w=$(FUZZ_DIR)/work/$$t; rm -rf $$w; mkdir -p $$w/corpus $$w/crash; \
	  cp tests/fuzz/corpus/$$t/* $$w/corpus/ 2>/dev/null; \
	  d=tests/fuzz/$$t.dict; [ -f $$d ] && dict=-dict=$$d || dict=; \
	  echo "=== $$t: $(FUZZ_SECONDS) s"; \
	  if LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp $(FUZZ_DIR)/bin/$$t $(FUZZ_OPTS) $(if $(FUZZ_SEED),-seed=$(FUZZ_SEED)) $$dict -max_total_time=$(FUZZ_SECONDS) \
	       -artifact_prefix=$$w/crash/ $$w/corpus < /dev/null > $$w/log 2>&1; then \
	    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units' $$w/log; \
	  else \
	    tail -n 40 $$w/log; echo "=== $$t FAILED: reproducer in $$w/crash/"; failed="$$failed $$t"; \
	  fi; \
	done; \
	if [ -n "$$failed" ]; then echo "=== fuzzing found crashes in:$$failed"; exit 1; fi; \
	echo "=== fuzzing: no crashes"

-include $(wildcard $(FUZZ_DIR)/obj/*/*.d)
