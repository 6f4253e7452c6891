/* poenet dashboards — shared helpers (no framework, no CDN).
 * Everything here reads the collector's own JSON feed (docs/feed.md). */
"use strict";

var POE = (function () {
  var MODES = ["passenger", "pedestrian", "commercial"];
  var LANES = ["standard", "ready", "nexus_sentri", "fast"];
  var T = POE_I18N.t;
  function laneLabel(l) { return T("lane." + l); }
  function modeLabel(m) { return T("mode." + m); }

  /* CBP district (first two digits of the port number) → a region name
   * (catalog keys region.NN). */
  function region(id) {
    var d = String(id).slice(0, 2);
    return POE_I18N.has("region." + d) ? T("region." + d) : T("region.district", { d: d });
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
    if (min < 120) return T("wait.min", { n: min });
    var h = Math.floor(min / 60), m = min % 60;
    return T("wait.hours", { h: h, m: (m < 10 ? "0" : "") + m });
  }

  /* What a queue shows: its wait, or the word for its status. */
  function statusText(q) {
    if (q.status === "open") return waitText(q.wait_min);
    if (q.status === "closed") return T(q.closed_by === "hours" ? "status.closed_hours" : "status.closed");
    if (q.status === "stale") return T("status.stale");
    return T("status.no_data");
  }

  /* The severity in words, for screen readers and the tooltip: colour is
   * never the only sign (WCAG 1.4.1). */
  function severityText(sev) { return sev >= 0 ? T("sev." + sev) : ""; }

  function ageText(sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return T("age.never");
    if (sec < 0) sec = 0;
    if (sec < 90) return T("age.s", { n: Math.round(sec) });
    if (sec < 5400) return T("age.min", { n: Math.round(sec / 60) });
    if (sec < 172800) return T("age.h", { n: Math.round(sec / 3600) });
    return T("age.d", { n: Math.round(sec / 86400) });
  }

  function dirText(d) { return T("dir." + d); }
  function intoText(c) { return T("into." + c); }

  function parseIso(s) { return s ? Date.parse(s) / 1000 : null; }

  /* The official value of a queue (CBP or CBSA), labelled with its source
   * and age: "CBP 15 min · 2 h ago", "CBSA stale · 512 d ago". null when
   * none. Statuses are the feed's (docs/feed.md), words from the catalog. */
  function officialSource(o) { return T("off.src." + String(o.source).toLowerCase()); }
  function officialText(o, nowS) {
    if (!o) return null;
    var what;
    if (o.wait_s !== null && o.status !== "stale" && o.status !== "no_delay")
      what = waitText(Math.round(o.wait_s / 60));
    else if (o.status === "no_delay" && o.wait_s)
      what = T("off.st.no_delay_min", { n: Math.round(o.wait_s / 60) });
    else
      what = POE_I18N.has("off.st." + o.status) ? T("off.st." + o.status) : o.status;
    var upd = parseIso(o.updated);
    return T("off.item", { src: officialSource(o), what: what,
                           age: upd === null ? T("off.time_unknown") : ageText(nowS - upd) });
  }

  /* The official line under a queue's measured one, and its tooltip. */
  function officialSpan(o, nowS, tz) {
    var text = officialText(o, nowS);
    if (text === null) return null;
    var span = el("span", "official" + (o.status === "stale" ? " old" : ""), T("off.label", { text: text }));
    var upd = parseIso(o.updated);
    span.title = T("off.title", { src: officialSource(o),
                                  time: upd === null ? T("off.time_unknown") : POE_I18N.time(upd, tz) });
    return span;
  }

  /* A wait shown from the official value (no measurement yet): tagged in
   * words, not only by its outline. */
  function markOfficial(wait, q) {
    wait.classList.add("from-official");
    /* keeps the severity in words when there is one */
    wait.title = (wait.title ? wait.title + " · " : "") + T("off.from_title", { src: officialSource(q.official) });
    wait.appendChild(el("span", "offtag", " " + T("off.tag")));
    wait.setAttribute("aria-label", wait.textContent + ", " + wait.title);
  }

  /* fetch JSON; the browser's HTTP cache revalidates with the ETag. When
   * the network is down the service worker (sw.js) answers from its copy
   * and says so in X-Poe-Offline (the copy's time, Unix ms): the body then
   * gets _offlineMs so a page never shows it as current. */
  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, cache: "no-cache" }).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          throw new Error(url + ": HTTP " + r.status + (b && b.error ? " (" + b.error + ")" : ""));
        });
      }
      var off = r.headers.get("X-Poe-Offline");
      return r.json().then(function (b) {
        if (off && b && typeof b === "object") b._offlineMs = +off;
        return b;
      });
    });
  }

  /* The live stream (/v1/stream, Server-Sent Events): a snapshot, then one
   * "wait" event per changed queue, ids = the feed's sequence numbers (the
   * browser resumes with Last-Event-ID by itself after a network error).
   * When the collector refuses it (no --feed, too many clients, an id it
   * cannot resume from) or the browser has no EventSource, the page polls;
   * the stream is tried again fresh after RETRY_MS. */
  var live = (function () {
    var ENABLED = true;   /* false: the pages only poll */
    var RETRY_MS = 30000, es = null, on = false, args = null;
    function start(path, onSnapshot, onWait) {
      args = [path, onSnapshot, onWait];
      if (!ENABLED || !window.EventSource || es) return;
      var src = es = new EventSource(path);
      es.addEventListener("snapshot", function (e) {
        on = true;
        document.body.dataset.liveSeq = e.lastEventId;
        onSnapshot(JSON.parse(e.data));
      });
      es.addEventListener("wait", function (e) {
        on = true;
        document.body.dataset.liveSeq = e.lastEventId;
        onWait(JSON.parse(e.data));
      });
      es.onerror = function () {
        if (src === es && src.readyState === EventSource.CLOSED) {   /* refused: poll, and try again later */
          on = false;
          es = null;
          setTimeout(function () { start(path, onSnapshot, onWait); }, RETRY_MS);
        }
      };
    }
    /* A page left (or kept in the back-forward cache) must give its
     * connection back: browsers allow about six per host, and held streams
     * of old pages would starve the next page's requests. */
    window.addEventListener("pagehide", function () { if (es) { es.close(); es = null; on = false; } });
    window.addEventListener("pageshow", function (e) { if (e.persisted && args && !es) start.apply(null, args); });
    return { start: start,
             on: function () { return on && es && es.readyState === EventSource.OPEN; } };
  })();

  /* Apply one stream update {crossing, direction, queue} to a feed in
   * place; false when the feed does not have that crossing. */
  function applyUpdate(feed, u) {
    if (!feed || !u || !u.queue) return false;
    var c = (feed.crossings || []).filter(function (x) { return x.id === u.crossing; })[0];
    if (!c) return false;
    var d = c.directions.filter(function (x) { return x.direction === u.direction; })[0];
    if (!d) return false;
    var q = u.queue, done = false;
    for (var i = 0; i < d.queues.length && !done; i++) {
      if (d.queues[i].mode === q.mode && d.queues[i].lane === q.lane) { d.queues[i] = q; done = true; }
    }
    if (!done) d.queues.push(q);
    /* the feed's clock moves with its newest reading, so ages stay right */
    if (q.updated && q.updated > feed.generated) feed.generated = q.updated;
    return true;
  }

  /* The notices of a crossing valid now, each in the page's language when
   * the port wrote one, else English, else the first it wrote. */
  function notices(c) {
    var lang = POE_I18N.lang(), out = [];
    (c.notices || []).forEach(function (n) {
      var l = n.text[lang] !== undefined ? lang : n.text.en !== undefined ? "en" : Object.keys(n.text)[0];
      if (l) out.push({ kind: n.kind, lang: l, text: n.text[l], until: n.until });
    });
    return out;
  }

  /* A notice list (role=note) into parent; tz for the end of validity. */
  function renderNotices(parent, c, tz) {
    var list = notices(c);
    if (!list.length) return null;
    var box = el("div", "notices");
    box.setAttribute("role", "note");
    list.forEach(function (n) {
      var p = el("p", "notice");
      p.appendChild(el("strong", null, T("notice.title") + ": "));
      var span = el("span", "ntext", n.text);
      span.lang = n.lang;
      span.dataset.name = "1";   /* the port's own words: not a catalog text */
      p.appendChild(span);
      if (n.until) p.appendChild(el("span", "nuntil", " (" + T("notice.until", { time: POE_I18N.time(parseIso(n.until), tz) }) + ")"));
      box.appendChild(p);
    });
    parent.appendChild(box);
    return box;
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

  /* ---- hours: posted or observed, in the page's words ---------------------- */

  var DAY_INDEX = { mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6 };
  var hFmt = {};

  /* An Intl formatter of the page's locale, cached per language and options. */
  function fmtOf(name, opts) {
    var k = POE_I18N.locale() + "|" + name;
    if (!hFmt[k]) hFmt[k] = new Intl.DateTimeFormat(POE_I18N.locale(), Object.assign({ timeZone: "UTC" }, opts));
    return hFmt[k];
  }

  /* Short weekday name, Monday 0 (2024-01-01 was a Monday). */
  function dayName(i) { return fmtOf("wd", { weekday: "short" }).format(new Date(Date.UTC(2024, 0, 1 + i))); }

  /* A wall-clock "HH:MM" of a side's rules (already the side's own zone)
   * with the language's conventions ("8:00 a.m.", "08 h 00"); 24:00 is the
   * midnight that ends the day. */
  function clockText(hhmm) {
    var m = hm(hhmm) % 1440;
    return fmtOf("clock", { hour: "numeric", minute: "2-digit" })
      .format(new Date(Date.UTC(2024, 0, 1, Math.floor(m / 60), m % 60)));
  }

  function spanText(from, to) { return T("hours.span", { from: clockText(from), to: clockText(to) }); }

  /* "2026-11-11" → the language's short date with its weekday. */
  function dateText(iso) {
    var p = String(iso).split("-");
    return fmtOf("date", { weekday: "short", month: "short", day: "numeric" })
      .format(new Date(Date.UTC(+p[0], +p[1] - 1, +p[2])));
  }

  function seasonDay(md) {
    var p = md.split("-");
    return fmtOf("md", { month: "short", day: "numeric" }).format(new Date(Date.UTC(2024, +p[0] - 1, +p[1])));
  }

  /* ["mon", ..., "fri"] → "Mon–Fri"; every day → "daily"; else a list. */
  function daysText(days) {
    var idx = (days || []).map(function (d) { return DAY_INDEX[d]; }).sort(function (a, b) { return a - b; });
    if (idx.length === 7) return T("hours.daily");
    if (idx.length >= 3 && idx[idx.length - 1] - idx[0] === idx.length - 1)
      return T("hours.day_range", { from: dayName(idx[0]), to: dayName(idx[idx.length - 1]) });
    return idx.map(dayName).join(", ");
  }

  function ruleText(r) {
    var s = daysText(r.days) + " " + (r.from === "00:00" && r.to === "24:00" ? T("hours.all_day") : spanText(r.from, r.to));
    if (r.season) s += " " + T("hours.season", { from: seasonDay(r.season.from), to: seasonDay(r.season.to) });
    return s;
  }

  /* The rules of one mode's hours {always_open, rules} in the page's words. */
  function rulesText(h) {
    if (h.always_open) return T("hours.24h");
    if (!h.rules || !h.rules.length) return T("hours.never");
    return h.rules.map(ruleText).join("; ");
  }

  /* The spans of local day lp of the rules: "8:00 a.m.–10:00 p.m.", ""
   * when they do not open that day. */
  function todayText(h, lp) {
    if (h.always_open) return T("hours.24h");
    var today = WEEKDAYS[lp.wd], out = [];
    (h.rules || []).forEach(function (r) {
      if (inSeason(r.season, lp.md) && r.days.indexOf(today) >= 0) out.push(spanText(r.from, r.to));
    });
    return out.join(", ");
  }

  /* Why observed hours are unknown or less sure (collector/hours_obs.c's
   * words) in the page's language. */
  var WHY = {
    "no data": "no_data", "not every weekday observed": "partial_week", "flapping lanes": "flapping",
    "stuck sensor": "stuck", "too little data": "too_little", "fewer than 3 weeks observed": "few_weeks",
    "flapping lanes on some days": "flapping_some", "stuck sensor on some days": "stuck_some",
    "irregular: more rules than the registry allows": "irregular", "silent for the last 7 days": "silent",
    "clock jumps": "clock"
  };
  function whyText(w) { return w ? T("hours.why." + (WHY[w] || "other")) : ""; }

  /* A deviation of the posted hours from the kept ones (/v1/hours). */
  function devText(d) {
    if (d.kind === "closed_on_posted_open_day") return T("hours.dev.closed_on_posted_open_day", { date: dateText(d.date) });
    return T("hours.dev." + d.kind, { min: d.minutes, days: daysText(d.days) });
  }

  /* An exception of the observed hours: a date that broke the pattern. */
  function excText(e) {
    var seen = e.observed === "closed" ? T("hours.closed_word")
      : String(e.observed).replace(/(\d\d:\d\d)-(\d\d:\d\d)/g, function (m, a, b) { return spanText(a, b); })
                          .replace(/,\.\.\.$/, "…");
    return T("hours.exc." + e.kind, { date: dateText(e.date), min: e.minutes, observed: seen });
  }

  /* A side's hours for the given modes at tMs as /v1/hours/mismatches
   * picks them: the posted hours where the registry knows them, else the
   * observed ones (learned from the side's lanes). {state: "open"|"closed"|
   * "unknown", source: "posted"|"observed"|null, today: the observed spans
   * of the local day, rules: the observed rules, deviations: [/v1/hours
   * deviation]}, words in the page's language. */
  function sideHours(side, modes, tMs) {
    var out = { state: sideOpen(side, modes, tMs), source: null, today: "", rules: "", deviations: [],
                tz: side ? side.tz : "" };
    if (!side) return out;
    var table = side.modes || {};
    modes.forEach(function (m) {
      var dv = table[m] && table[m].deviations;
      ((dv && dv.list) || []).forEach(function (d) { out.deviations.push(d); });
    });
    if (out.state !== "unknown") {
      out.source = "posted";
      return out;
    }
    var obs = { known: true, tz: side.tz, closed_dates: [], modes: {} }, first = null;
    modes.forEach(function (m) {
      var o = table[m] && table[m].observed;
      if (o && o.known) {
        obs.modes[m] = o;
        if (!first) first = o;
      }
    });
    var st = first ? sideOpen(obs, modes, tMs) : "unknown";
    if (st !== "unknown") {
      out.state = st;
      out.source = "observed";
      out.today = todayText(first, localParts(tMs, side.tz));
      out.rules = rulesText(first);
    }
    return out;
  }

  /* The badge's words: "open by hours (posted)", "open by hours (observed
   * 8:00 a.m.–10:00 p.m.)", with a mark when the posted hours are not kept
   * (a sign in words, not a colour alone). */
  function hoursLabel(h) {
    var s;
    if (h.state === "unknown") s = T("hours.unknown");
    else if (h.source === "observed" && !h.today && h.state === "closed") s = T("hours.closed_today_observed");
    else if (h.source === "observed") s = T("hours." + h.state + "_observed", { hours: h.today || h.rules });
    else s = T("hours." + h.state + "_posted");
    if (h.deviations.length) s += " " + T("hours.dev_mark");
    return s;
  }

  return {
    MODES: MODES, LANES: LANES, laneLabel: laneLabel, modeLabel: modeLabel,
    region: region, severity: severity, waitText: waitText, ageText: ageText,
    officialText: officialText, officialSpan: officialSpan, markOfficial: markOfficial,
    statusText: statusText, severityText: severityText, dirText: dirText, intoText: intoText,
    live: live, applyUpdate: applyUpdate, parseIso: parseIso, getJson: getJson, notices: notices, renderNotices: renderNotices, el: el, sideOpen: sideOpen, localParts: localParts,
    sideHours: sideHours, hoursLabel: hoursLabel, rulesText: rulesText, devText: devText, excText: excText,
    whyText: whyText
  };
})();
