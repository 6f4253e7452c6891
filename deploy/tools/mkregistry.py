#!/usr/bin/env python3
"""mkregistry — generate deploy/registry.conf, the collector's crossing list.

Joins the US CBP Border Wait Times crossing list (ids, names, border, maximum
lanes per mode) with the project's counterparts table (the port across the
line and both IANA time zones), and writes the libconfig file described in
docs/registry.md. Python 3 standard library only.

    deploy/tools/mkregistry.py                 # writes deploy/registry.conf
    deploy/tools/mkregistry.py -o -            # to stdout
    deploy/tools/mkregistry.py --crossings NEW.json --counterparts NEW.csv

The output is deterministic (no dates), so regenerating from unchanged
sources gives no diff. Entries keep CBP's order. Notes about the data
(repaired or left-out entries) go into the file as comments and to stderr.
Exit status 1 when the sources contradict each other in a way a person has
to resolve (border mismatch, duplicate id, a name too long for the C struct).
"""
import argparse
import csv
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.dirname(HERE)
DEFAULT_CROSSINGS = os.path.join(DEPLOY, "data", "cbp_api_bwtmodern_crossingslist_2022.json")
DEFAULT_COUNTERPARTS = os.path.join(DEPLOY, "data", "counterparts.csv")
DEFAULT_FEED_XML = os.path.join(DEPLOY, "data", "cbp_bwt_2022-10-17.xml")
DEFAULT_FEED_JSON = os.path.join(DEPLOY, "data", "cbp_api_bwtnew_2022-06-29.json")
DEFAULT_CBSA = os.path.join(DEPLOY, "data", "cbsa_offices.csv")
DEFAULT_OUT = os.path.join(DEPLOY, "registry.conf")

# CBP lane elements per mode -> poenet lane type.
FEED_MODES = {"passenger_vehicle_lanes": "passenger", "pedestrian_lanes": "pedestrian",
              "commercial_vehicle_lanes": "commercial"}
FEED_TYPES = {"standard_lanes": "standard", "ready_lanes": "ready",
              "NEXUS_SENTRI_lanes": "nexus_sentri", "FAST_lanes": "fast"}
# Where a poenet agent's wait ends, by the country the direction enters.
SEGMENT_TO = {"US": "US CBP primary inspection booth",
              "CA": "CBSA primary inspection booth",
              "MX": "Mexican customs (Aduanas) primary inspection"}

# Byte limits of the char arrays in reg_crossing_t (collector/registry.h),
# minus the terminating NUL.
LIMITS = {"name": 95, "port_name": 63, "crossing_name": 63, "other_name": 95, "cbsa_office": 63,
          "us_tz": 47, "other_tz": 47}
MAX_LANES = 64          # the collector rejects more (collector/registry.c)
BORDERS = {"C": "CA", "M": "MX"}
# Letters that a typist can put for a digit; only ever used together with a
# confirmation from counterparts.csv.
LOOKALIKES = str.maketrans({"l": "1", "I": "1", "O": "0", "o": "0"})


class DataError(Exception):
    pass


def load_counterparts(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_port = {}
    for r in rows:
        port = r["port_number"].strip()
        if port in by_port:
            raise DataError(f"{path}: port {port} listed twice")
        by_port[port] = r
    return by_port


def load_cbsa_offices(path):
    """CBSA office name (the key of CBSA's feed, which has no numeric id) by
    port number; an office or a port listed twice is an error."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_port, offices = {}, set()
    for r in rows:
        port, office = r["port_number"].strip(), r["office"].strip()
        if port in by_port or office in offices:
            raise DataError(f"{path}: office {office!r} or port {port} listed twice")
        by_port[port] = office
        offices.add(office)
    return by_port


def load_crossings(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["portCrossings"]


def resolve_bwt_id(x, counterparts, notes):
    """The entry's 8-digit bwtId, repaired if need be; None to leave it out.
    A lookalike letter is read as a digit only when counterparts.csv knows
    the resulting port: otherwise we would be inventing a port number."""
    raw = x["bwtId"]
    if re.fullmatch(r"\d{8}", raw):
        return raw
    fixed = raw.translate(LOOKALIKES)
    label = x["portCrossingName"]
    if re.fullmatch(r"\d{8}", fixed) and fixed[2:] in counterparts:
        notes.append(f'CBP bwtId "{raw}" ({label}) has a letter for a digit; '
                     f"fixed to {fixed}: counterparts.csv confirms port {fixed[2:]}")
        return fixed
    why = (f"reading it as {fixed} gives port {fixed[2:]}, which counterparts.csv "
           f"does not confirm" if re.fullmatch(r"\d{8}", fixed) else "no repair found")
    notes.append(f'left out: CBP bwtId "{raw}" ({label}) is not 8 digits; {why}')
    return None


def cbp_clock(text):
    """'6 am' / '10:30 pm' / 'Noon' / 'Midnight' -> minutes after midnight."""
    t = text.strip().lower()
    if t == "noon":
        return 12 * 60
    if t == "midnight":
        return 24 * 60
    m = re.fullmatch(r"(\d{1,2})(?::(\d\d))?\s*(am|pm)", t)
    if not m:
        raise ValueError(text)
    h, mi = int(m.group(1)) % 12, int(m.group(2) or 0)
    return (h + (12 if m.group(3) == "pm" else 0)) * 60 + mi


def cbp_hours_rules(text):
    """CBP's free-text hours -> registry rules (docs/registry.md), or None
    when the text is not one of the forms CBP uses."""
    t = text.strip()
    if t.lower() in ("24 hrs/day", "24 hours"):
        return ["24h"]
    parts = t.split("-")
    if len(parts) != 2:
        return None
    try:
        a, b = cbp_clock(parts[0]), cbp_clock(parts[1])
    except ValueError:
        return None
    if a == 24 * 60:
        a = 0
    return [f"daily {a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}"]


def load_feeds(xml_path, json_path):
    """Per port: hours text (and its source) and, per mode, the lane types
    seen in service with the most lanes seen open."""
    ports = {}
    if json_path and os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as f:
            for p in json.load(f):
                e = ports.setdefault(p["port_number"], {"types": {}})
                e["hours"] = (p["hours"], os.path.basename(json_path))
                for mk, mode in FEED_MODES.items():
                    for tk, typ in FEED_TYPES.items():
                        lane = p[mk].get(tk)
                        if lane:
                            note_type(e, mode, typ, lane["operational_status"], lane["lanes_open"])
    if xml_path and os.path.exists(xml_path):
        for p in ET.parse(xml_path).getroot().iter("port"):
            e = ports.setdefault(p.findtext("port_number"), {"types": {}})
            e["hours"] = (p.findtext("hours") or "", os.path.basename(xml_path))   # newer wins
            for mk, mode in FEED_MODES.items():
                for tk, typ in FEED_TYPES.items():
                    lane = p.find(f"{mk}/{tk}")
                    if lane is not None:
                        note_type(e, mode, typ, lane.findtext("operational_status"),
                                  lane.findtext("lanes_open") or "")
    return ports


def note_type(e, mode, typ, status, lanes_open):
    if status in (None, "N/A"):
        return
    n = int(lanes_open) if lanes_open.isdigit() else 0
    key = (mode, typ)
    e["types"][key] = max(e["types"].get(key, 1), n)


def make_entry(x, bwt, cp, notes):
    port = bwt[2:]
    border = BORDERS.get(x["border"])
    if border is None:
        raise DataError(f"{bwt}: unknown CBP border {x['border']!r}")
    if cp["border"] != border:
        raise DataError(f"{bwt}: CBP says border {border}, counterparts.csv says {cp['border']}")
    if cp["us_name"] != x["portCrossingName"]:
        notes.append(f'{port}: CBP calls it "{x["portCrossingName"]}", '
                     f'counterparts.csv "{cp["us_name"]}"; CBP name kept')
    e = {
        "id": port, "bwt_id": bwt, "border": border,
        "name": x["portCrossingName"].strip(),
        "port_name": x["portName"].strip(),
        "crossing_name": x["crossingName"].strip(),
        "other_name": cp["other_name"].strip(),
        "cbsa_office": "",
        "us_tz": cp["us_tz"].strip(), "other_tz": cp["other_tz"].strip(),
        "lanes": (x["povMaximumLanes"], x["pedMaximumLanes"], x["covMaximumLanes"]),
    }
    for key, limit in LIMITS.items():
        if len(e[key].encode("utf-8")) > limit:
            raise DataError(f"{port}: {key} longer than {limit} bytes: {e[key]!r}")
    if not any(e["lanes"]):
        notes.append(f"{port}: CBP lists 0 maximum lanes in every mode")
    for n in e["lanes"]:
        if not isinstance(n, int) or not 0 <= n <= MAX_LANES:
            raise DataError(f"{port}: maximum lanes {n!r} outside 0..{MAX_LANES}")
    return e


def q(s):
    """A libconfig string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_extra(e):
    """lanes, hours and directions (docs/registry.md), or '' without feed data."""
    out = []
    lanes = e.get("type_lanes") or {}
    if lanes:
        groups = []
        for mode in ("passenger", "pedestrian", "commercial"):
            items = [f"{t} = {n};" for (m, t), n in sorted(lanes.items()) if m == mode]
            if items:
                groups.append(f"{mode} = {{ {' '.join(items)} }};")
        out.append(f"    lanes = {{ {' '.join(groups)} }};")
    us = e.get("us_hours")
    if us:
        rules, src = us
        rl = ", ".join(q(r) for r in rules)
        out.append(f"    hours = {{ us = {{ source = {q(src)}; all = [ {rl} ]; }}; other = \"unknown\"; }};")
    else:
        out.append('    hours = { us = "unknown"; other = "unknown"; };')
    dirs = []
    for d, short in (("northbound", "nb"), ("southbound", "sb")):
        into = ("US" if d == "northbound" else "MX") if e["border"] == "MX" else \
               ("CA" if d == "northbound" else "US")
        dirs.append(f'{d} = {{ agent = {q(e["id"] + "-" + short)}; method = "sensors"; '
                    f'segment_from = "back of the queue"; segment_to = {q(SEGMENT_TO[into])}; }};')
    out.append("    directions = { " + " ".join(dirs[:1]) + "\n                   " +
               " ".join(dirs[1:]) + " };")
    return "\n" + "\n".join(out)


def render_entry(e):
    p, ped, com = e["lanes"]
    return (f'  {{ id = {q(e["id"])}; bwt_id = {q(e["bwt_id"])}; border = {q(e["border"])}; '
            f'name = {q(e["name"])}; port_name = {q(e["port_name"])}; '
            f'crossing_name = {q(e["crossing_name"])};\n'
            f'    other_name = {q(e["other_name"])}; '
            + (f'cbsa_office = {q(e["cbsa_office"])}; ' if e["cbsa_office"] else "") +
            f'us_tz = {q(e["us_tz"])}; '
            f'other_tz = {q(e["other_tz"])};\n'
            f"    max_lanes = {{ passenger = {p}; pedestrian = {ped}; commercial = {com}; }};"
            f"{render_extra(e)} }}")


def add_feed_data(e, feed, notes):
    """Hours of the US side and lane types from CBP's feeds."""
    p = feed.get(e["id"])
    if not p:
        notes.append(f"{e['id']}: not in the CBP feed samples: hours and lane types unknown")
        return
    maxes = dict(zip(("passenger", "pedestrian", "commercial"), e["lanes"]))
    e["type_lanes"] = {(m, t): min(n, maxes[m]) for (m, t), n in p["types"].items()
                       if t != "standard" and maxes[m] > 0}
    text, src = p.get("hours", ("", ""))
    rules = cbp_hours_rules(text)
    if rules is None:
        notes.append(f"{e['id']}: CBP hours {text!r} not understood; left unknown")
    else:
        e["us_hours"] = (rules, f"CBP {src}: {text}")


def build(crossings_path, counterparts_path, feed_xml=DEFAULT_FEED_XML, feed_json=DEFAULT_FEED_JSON,
          cbsa_path=DEFAULT_CBSA):
    """Returns the file text and the notes worth telling the maintainer."""
    counterparts = load_counterparts(counterparts_path)
    feed = load_feeds(feed_xml, feed_json)
    cbsa = load_cbsa_offices(cbsa_path)
    items = []          # ("entry", dict) or ("note", text), in CBP order
    notes = []
    seen = set()
    for x in load_crossings(crossings_path):
        before = len(notes)
        bwt = resolve_bwt_id(x, counterparts, notes)
        if bwt is not None and bwt[2:] not in counterparts:
            notes.append(f'left out: {bwt} ({x["portCrossingName"]}) has no row in '
                         f"counterparts.csv (time zones unknown)")
            bwt = None
        entry = make_entry(x, bwt, counterparts[bwt[2:]], notes) if bwt else None
        if entry:
            add_feed_data(entry, feed, notes)
            entry["cbsa_office"] = cbsa.pop(entry["id"], "")
            if entry["cbsa_office"] and entry["border"] != "CA":
                raise DataError(f"{entry['id']}: CBSA office on the Mexican border")
        items += [("note", n) for n in notes[before:]]
        if entry:
            if entry["id"] in seen:
                raise DataError(f"{entry['id']}: listed twice by CBP")
            seen.add(entry["id"])
            items.append(("entry", entry))
    for port in sorted(cbsa):
        notes.append(f"cbsa_offices.csv row {port} matches no crossing; unused")
    for port in sorted(set(counterparts) - seen):
        notes.append(f"counterparts.csv row {port} matches no CBP crossing; unused")
    return render(items, crossings_path, counterparts_path, len(seen)), notes


def render(items, crossings_path, counterparts_path, count):
    out = [
        "# poenet crossing registry: the crossings a collector knows (format: docs/registry.md).",
        "# Generated by deploy/tools/mkregistry.py; edit the sources and regenerate rather",
        "# than editing this file by hand.",
        f"# source: {os.path.basename(crossings_path)} — US CBP Border Wait Times crossing list",
        "#         (public data, bwt.cbp.gov /api/bwtmodern/crossingslist): ids, names, border,",
        "#         maximum lanes (povMaximumLanes, pedMaximumLanes, covMaximumLanes).",
        f"# source: {os.path.basename(counterparts_path)} — poenet shared data: the port across",
        "#         the line and the IANA time zones of both sides.",
        "# source: cbp_bwt_2022-10-17.xml, cbp_api_bwtnew_2022-06-29.json — CBP's own feeds",
        "#         (bwt.cbp.gov /xml/bwt.xml, /api/bwtnew): US-side hours (free text, parsed),",
        "#         lane types in service and the most lanes seen open per type.",
        "# The other side's hours are unknown (no source in the shared data): \"unknown\",",
        "#         which the collector never reads as \"same as the US side\".",
        "# source: cbsa_offices.csv — poenet: the CBSA office name (the key of CBSA's feed",
        "#         bwt-eng.csv) of each crossing's into-Canada side.",
        "# All sources are kept in deploy/data/ (see deploy/data/README.md).",
        f"# {count} crossings.",
        "",
        "crossings = (",
    ]
    entries = [i for i, (kind, _) in enumerate(items) if kind == "entry"]
    last = entries[-1] if entries else -1
    for i, (kind, val) in enumerate(items):
        if kind == "note":
            out.append(f"  # {val}")
        else:
            out.append(render_entry(val) + ("," if i != last else ""))
    out.append(");")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--crossings", default=DEFAULT_CROSSINGS, help="CBP crossingslist JSON")
    ap.add_argument("--counterparts", default=DEFAULT_COUNTERPARTS, help="counterparts CSV")
    ap.add_argument("-o", "--output", default=DEFAULT_OUT, help="output file, - for stdout")
    args = ap.parse_args()
    try:
        text, notes = build(args.crossings, args.counterparts)
    except (DataError, KeyError, OSError, ValueError, ET.ParseError) as e:
        print(f"mkregistry: {e}", file=sys.stderr)
        return 1
    for n in notes:
        print(f"mkregistry: {n}", file=sys.stderr)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
