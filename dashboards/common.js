/* poenet dashboards — shared helpers (no framework, no CDN).
 * Everything here reads the collector's own JSON feed (docs/feed.md). */
"use strict";

var POE = (function () {
  var MODES = ["passenger", "pedestrian", "commercial"];
  var LANES = ["standard", "ready", "nexus_sentri", "fast"];
  var LANE_LABEL = { standard: "Standard", ready: "Ready", nexus_sentri: "NEXUS/SENTRI", fast: "FAST" };
  var MODE_LABEL = { passenger: "Passenger", pedestrian: "Pedestrian", commercial: "Commercial" };

  /* CBP district (first two digits of the port number) → a region name. */
  var REGIONS = {
    "01": "Maine", "02": "Vermont", "07": "Northern New York", "09": "Western New York",
    "23": "South Texas", "24": "West Texas / New Mexico", "25": "California", "26": "Arizona",
    "30": "Washington", "33": "Montana", "34": "North Dakota", "35": "Minnesota",
    "36": "Minnesota", "38": "Michigan", "53": "Lower Rio Grande"
  };

  function region(id) {
    var d = String(id).slice(0, 2);
    return REGIONS[d] || "District " + d;
  }

  /* Severity class of a wait in minutes: 0 no delay … 4 severe. */
  function severity(min) {
    if (min === null || min === undefined) return -1;
    if (min <= 5) return 0;
    if (min <= 20) return 1;
    if (min <= 45) return 2;
    if (min <= 90) return 3;
    return 4;
  }

  function waitText(min) {
    if (min === null || min === undefined) return "—";
    if (min < 120) return min + " min";
    var h = Math.floor(min / 60), m = min % 60;
    return h + " h " + (m < 10 ? "0" : "") + m;
  }

  function ageText(sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return "never";
    if (sec < 0) sec = 0;
    if (sec < 90) return Math.round(sec) + " s ago";
    if (sec < 5400) return Math.round(sec / 60) + " min ago";
    if (sec < 172800) return Math.round(sec / 3600) + " h ago";
    return Math.round(sec / 86400) + " d ago";
  }

  function parseIso(s) { return s ? Date.parse(s) / 1000 : null; }

  /* fetch JSON; the browser's HTTP cache revalidates with the ETag. */
  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, cache: "no-cache" }).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          throw new Error(url + ": HTTP " + r.status + (b && b.error ? " (" + b.error + ")" : ""));
        });
      }
      return r.json();
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  /* ---- hours: is a side open at an instant, by its registry hours ---------- */

  var WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
  var fmtCache = {};

  /* Local weekday (0 = Sunday), minutes since midnight, "MM-DD" and the
   * days of the month in tz. */
  function localParts(tMs, tz) {
    var f = fmtCache[tz];
    if (!f) {
      f = fmtCache[tz] = new Intl.DateTimeFormat("en-US", {
        timeZone: tz, hourCycle: "h23", weekday: "short", hour: "2-digit", minute: "2-digit",
        year: "numeric", month: "2-digit", day: "2-digit"
      });
    }
    var p = {};
    f.formatToParts(new Date(tMs)).forEach(function (x) { p[x.type] = x.value; });
    return {
      wd: WEEKDAYS.indexOf(p.weekday.slice(0, 3).toLowerCase()),
      min: (+p.hour % 24) * 60 + (+p.minute),
      md: p.month + "-" + p.day,
      mdays: new Date(Date.UTC(+p.year, +p.month, 0)).getUTCDate()
    };
  }

  /* A holiday closure of the registry on local parts lp: "MM-DD", or the
   * nth weekday of a month "MM-DAY#N" (N 1..5, L = the last). */
  function closedOn(c, lp) {
    if (/^\d\d-\d\d$/.test(c)) return c === lp.md;
    var m = /^(\d\d)-(mon|tue|wed|thu|fri|sat|sun)#([1-5L])$/.exec(c);
    if (!m || m[1] !== lp.md.slice(0, 2) || WEEKDAYS.indexOf(m[2]) !== lp.wd) return false;
    var day = +lp.md.slice(3);
    return m[3] === "L" ? day + 7 > lp.mdays : Math.floor((day - 1) / 7) + 1 === +m[3];
  }

  function hm(s) { var a = s.split(":"); return (+a[0]) * 60 + (+a[1]); }

  function inSeason(season, md) {
    if (!season) return true;
    return season.from <= season.to ? md >= season.from && md <= season.to
                                     : md >= season.from || md <= season.to;
  }

  /* One mode's hours {known, always_open, rules} at local parts lp:
   * true open, false closed, null unknown. */
  function modeOpen(h, lp) {
    if (!h || !h.known) return null;
    if (h.always_open) return true;
    var rules = h.rules || [];
    for (var i = 0; i < rules.length; i++) {
      var r = rules[i];
      if (!inSeason(r.season, lp.md)) continue;
      var from = hm(r.from), to = hm(r.to);
      var today = WEEKDAYS[lp.wd], yesterday = WEEKDAYS[(lp.wd + 6) % 7];
      if (to > from && !r.overnight) {
        if (r.days.indexOf(today) >= 0 && lp.min >= from && lp.min < to) return true;
      } else {
        /* over midnight: the evening of a listed day, the morning after it */
        if (r.days.indexOf(today) >= 0 && lp.min >= from) return true;
        if (r.days.indexOf(yesterday) >= 0 && lp.min < to) return true;
      }
    }
    return false;
  }

  /* A side {known, tz, modes...} at tMs for the given modes: "open" (any
   * of them open), "closed" (all known and closed), "unknown". */
  function sideOpen(side, modes, tMs) {
    if (!side || !side.known || !side.tz) return "unknown";
    var lp = localParts(tMs, side.tz);
    var known = 0, open = 0;
    var table = side.modes || side;
    var holiday = (side.closed_dates || []).some(function (c) { return closedOn(c, lp); });
    modes.forEach(function (m) {
      var v = modeOpen(table[m], lp);
      if (v !== null && holiday) v = false; /* as the collector: a closure day of known hours */
      if (v !== null) known++;
      if (v) open++;
    });
    if (open) return "open";
    if (known && known === modes.length) return "closed";
    return "unknown";
  }

  /* A side's hours for the given modes at tMs, as the collector's
   * /v1/hours/mismatches picks them: the posted hours where the registry
   * knows them, else the observed ones (learned from the side's lanes).
   * {state: "open"|"closed"|"unknown", source: "posted"|"observed"|null,
   *  text: the observed rules ("mon-fri 08:00-22:00"), deviations: [text]}. */
  function sideHours(side, modes, tMs) {
    var out = { state: sideOpen(side, modes, tMs), source: null, text: "", deviations: [] };
    if (!side) return out;
    var table = side.modes || {};
    modes.forEach(function (m) {
      var dv = table[m] && table[m].deviations;
      (dv && dv.list || []).forEach(function (d) { out.deviations.push(d.text); });
    });
    if (out.state !== "unknown") {
      out.source = "posted";
      return out;
    }
    var obs = { known: true, tz: side.tz, closed_dates: [], modes: {} };
    modes.forEach(function (m) {
      var o = table[m] && table[m].observed;
      if (o && o.known) {
        obs.modes[m] = o;
        if (!out.text) out.text = o.text;
      }
    });
    var st = sideOpen(obs, modes, tMs);
    if (st !== "unknown") {
      out.state = st;
      out.source = "observed";
    }
    return out;
  }

  /* The badge's words: "open by hours", "open by hours (observed 08:00-22:00)". */
  function hoursLabel(h) {
    if (h.state === "unknown") return "hours unknown";
    var s = (h.state === "open" ? "open" : "closed") + " by hours";
    if (h.source === "observed") s += " (observed " + h.text + ")";
    if (h.deviations.length) s += " ≠ kept";
    return s;
  }

  return {
    sideHours: sideHours, hoursLabel: hoursLabel,
    MODES: MODES, LANES: LANES, LANE_LABEL: LANE_LABEL, MODE_LABEL: MODE_LABEL,
    region: region, severity: severity, waitText: waitText, ageText: ageText,
    parseIso: parseIso, getJson: getJson, el: el, sideOpen: sideOpen, localParts: localParts
  };
})();
