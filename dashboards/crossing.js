/* poenet — one crossing: both directions now (from /v1/crossings/{id}),
 * and graphs drawn in the browser from /v1/history: wait over 24 h, 7 days
 * and a year with both directions on one time axis, arrivals against
 * departures, lanes open against the maximum, and the typical week.
 * Three history requests per direction: 24 h at 1 min, 35 days at 1 h
 * (the 7-day graph and the typical week), a year at 1 day. Words from the
 * catalogs (i18n.js), times in the crossing's zone with the language's
 * conventions; old data (offline) is shown greyed under a banner. */
"use strict";

(function () {
  var LIVE_MS = 10000, HISTORY_MS = 60000;
  var DIRS = ["northbound", "southbound"];
  var COLOR = { northbound: "#1565c0", southbound: "#c2185b" };
  var BAND = { northbound: "rgba(21, 101, 192, 0.18)", southbound: "rgba(194, 24, 91, 0.18)" };
  var id = decodeURIComponent(location.pathname.split("/").pop());
  var T = POE_I18N.t;
  var crossing = null, lastFeed = null, tz = "UTC", queue = null, hist = {}, histAt = 0;
  var ui = {
    name: document.getElementById("x-name"), sub: document.getElementById("x-sub"),
    queue: document.getElementById("x-queue"), now: document.getElementById("now"),
    status: document.getElementById("status"), json: document.getElementById("x-json"),
    star: document.getElementById("x-star"), notices: document.getElementById("x-notices"),
    offline: document.getElementById("offline"), lang: document.getElementById("lang")
  };

  /* ---- time axis labels in the US side's zone ---------------------------- */

  var fmt = {};
  function parts(t, opts) {
    var k = JSON.stringify(opts);
    if (!fmt[k]) fmt[k] = new Intl.DateTimeFormat(POE_I18N.locale(), Object.assign({ timeZone: tz }, opts));
    var p = {};
    fmt[k].formatToParts(new Date(t * 1000)).forEach(function (x) { p[x.type] = x.value; });
    return p;
  }

  /* Ticks where the local clock turns: every 3 h (24 h view), at midnight
   * (7 days), on the 1st of a month (year). */
  function ticks(kind) {
    return function (x0, x1) {
      var out = [], step = kind === "1y" ? 86400 : 3600;
      var t = Math.ceil(x0 / 3600) * 3600, prev = null;
      for (; t <= x1; t += step) {
        if (kind === "24h") {
          var h = +parts(t, { hour: "2-digit", hourCycle: "h23" }).hour;
          if (h % 3 === 0) out.push({ x: t, label: (h < 10 ? "0" : "") + h + ":00" });
        } else if (kind === "7d") {
          var p = parts(t, { hour: "2-digit", hourCycle: "h23", weekday: "short", day: "numeric" });
          if (+p.hour === 0) out.push({ x: t, label: p.weekday + " " + p.day });
        } else {
          var q = parts(t, { month: "short", day: "numeric" });
          if (prev !== null && q.month !== prev) out.push({ x: t, label: q.month });
          prev = q.month;
        }
      }
      return out;
    };
  }

  /* ---- data ------------------------------------------------------------------ */

  function historyUrl(dir, from, to, step) {
    return "/v1/history?crossing=" + id + "&direction=" + dir + "&mode=" + queue.mode +
           "&lane=" + queue.lane + "&from=" + from + "&to=" + to + "&step=" + step;
  }

  /* rows → {t: [...], col: [...]} per column name */
  var OFFICIAL_STALE_S = 7200;

  function columns(h) {
    var out = { step: h.step };
    h.columns.forEach(function (c, i) { out[c] = h.rows.map(function (r) { return r[i]; }); });
    if (!out.time) out.time = [];
    return out;
  }

  function series(c, col, scale) {
    return c.time.map(function (t, i) {
      var v = c[col] ? c[col][i] : null;
      return [t, v === null || v === undefined ? null : v * (scale || 1)];
    });
  }

  function loadHistory() {
    var now = Math.floor(Date.now() / 1000);
    var spans = { d1: [86400, 60], d35: [35 * 86400, 3600], y1: [365 * 86400, 86400] };
    var jobs = [];
    DIRS.forEach(function (dir) {
      Object.keys(spans).forEach(function (k) {
        jobs.push(POE.getJson(historyUrl(dir, now - spans[k][0], now, spans[k][1])).then(function (h) {
          hist[dir + "/" + k] = columns(h);
        }));
      });
    });
    /* The next 12 hours of each direction (/v1/forecast), after "now". */
    DIRS.forEach(function (dir) {
      jobs.push(POE.getJson("/v1/forecast?crossing=" + id + "&direction=" + dir + "&mode=" + queue.mode +
                            "&lane=" + queue.lane + "&hours=12").then(function (f) {
        hist[dir + "/fc"] = f;
      }, function () { delete hist[dir + "/fc"]; }));
    });
    return Promise.all(jobs).then(function () { histAt = now; });
  }

  /* ---- the live panel -------------------------------------------------------- */

  function cell(d, q, genS) {
    var td = POE.el("td", "q");
    td.dataset.key = id + "/" + d.direction + "/" + q.mode + "/" + q.lane;
    td.dataset.status = q.status;
    var sev = q.status === "open" ? POE.severity(q.wait_min) : -1;
    var wait = POE.el("span", "wait sev" + sev, POE.statusText(q));
    if (sev >= 0) {
      wait.title = POE.severityText(sev);
      wait.setAttribute("aria-label", wait.textContent + ", " + wait.title);
    }
    td.appendChild(wait);
    var meta = POE.el("span", "meta");
    var lanes = POE.el("span", "lanes", (q.lanes_open === null ? "–" : q.lanes_open) + "/" + q.max_lanes);
    lanes.title = T("lanes.title");
    meta.appendChild(lanes);
    var upd = POE.parseIso(q.updated);
    var age = POE.el("span", "age", upd === null ? T("age.never") : POE.ageText(genS - upd));
    if (upd !== null) age.title = T("age.title", { time: POE_I18N.time(upd, d.tz) });
    meta.appendChild(age);
    if (q.arrivals !== null)
      meta.appendChild(POE.el("span", "flow", T("x.flow", { a: q.arrivals, d: q.departures, s: q.interval_s })));
    td.appendChild(meta);
    if (q.method === "official" && q.official) POE.markOfficial(wait, q);
    var off = POE.officialSpan(q.official, genS, d.tz);
    if (off !== null) td.appendChild(off);
    return td;
  }

  function renderNow(f) {
    var genS = POE.parseIso(f.generated);
    ui.now.textContent = "";
    crossing.directions.forEach(function (d) {
      var box = POE.el("div", "side");
      box.dataset.dir = d.direction;
      box.appendChild(POE.el("h2", null, POE.dirText(d.direction) + " · " + POE.intoText(d.into)));
      var t = POE.el("table");
      if (!d.queues.length) box.appendChild(POE.el("p", "status", T("lanes.none")));
      d.queues.forEach(function (q) {
        var tr = POE.el("tr");
        tr.appendChild(POE.el("th", "mode", POE.modeLabel(q.mode) + " · " + POE.laneLabel(q.lane)));
        tr.lastChild.scope = "row";
        tr.appendChild(cell(d, q, genS));
        t.appendChild(tr);
      });
      box.appendChild(t);
      ui.now.appendChild(box);
    });
  }

  function fillQueues() {
    var seen = {}, list = [];
    crossing.directions.forEach(function (d) {
      d.queues.forEach(function (q) {
        var k = q.mode + "/" + q.lane;
        if (!seen[k]) { seen[k] = true; list.push({ mode: q.mode, lane: q.lane, max: q.max_lanes }); }
      });
    });
    list.sort(function (a, b) {
      return POE.MODES.indexOf(a.mode) - POE.MODES.indexOf(b.mode) ||
             POE.LANES.indexOf(a.lane) - POE.LANES.indexOf(b.lane);
    });
    if (ui.queue.options.length === list.length && ui.queue.dataset.lang === POE_I18N.lang()) return list;
    var keep = ui.queue.value;
    ui.queue.dataset.lang = POE_I18N.lang();
    ui.queue.textContent = "";
    list.forEach(function (q) {
      var o = POE.el("option", null, POE.modeLabel(q.mode) + " · " + POE.laneLabel(q.lane));
      o.value = q.mode + "/" + q.lane;
      ui.queue.appendChild(o);
    });
    var want = new URLSearchParams(location.search).get("queue");
    if (keep && seen[keep]) ui.queue.value = keep;
    else if (want && seen[want]) ui.queue.value = want;
    return list;
  }

  function pickQueue(list) {
    var v = ui.queue.value.split("/");
    var q = list.filter(function (x) { return x.mode === v[0] && x.lane === v[1]; })[0] || list[0] || null;
    queue = q;
  }

  /* ---- graphs ----------------------------------------------------------------- */

  function canvas(id) { return document.getElementById(id); }

  function hasValues(pts) {
    return pts.some(function (p) { return p[1] !== null; });
  }

  /* fallbackKey: a finer series used when this one has no values at all
   * (an archive without daily rows still shows its hourly ones). */
  /* ahead: seconds of forecast drawn after now (P10-P90 band, P50 dashed). */
  function drawWait(key, span, kind, histKey, fallbackKey, ahead) {
    var now = histAt;
    function pick(dir, col) {
      var c = hist[dir + "/" + histKey];
      var pts = c && c[col] ? series(c, col, 1 / 60) : [];
      if (!hasValues(pts) && fallbackKey && hist[dir + "/" + fallbackKey] && hist[dir + "/" + fallbackKey][col])
        pts = series(hist[dir + "/" + fallbackKey], col, 1 / 60);
      return pts;
    }
    var se = DIRS.map(function (dir) {
      return { label: T("dir." + dir + "_short"), color: COLOR[dir], points: pick(dir, "wait_s") };
    });
    /* the official series (CBP into the US, CBSA into Canada), dashed beside
     * ours; a value older than the collector's default --official-stale-after
     * (2 h) when it was read is not plotted, as the feed does not show it */
    DIRS.forEach(function (dir) {
      var pts = pick(dir, "official_wait_s"), ages = pick(dir, "official_age_s");
      pts = pts.map(function (p, i) {
        var a = ages[i] ? ages[i][1] : null; /* minutes: pick scales by 1/60 */
        return a !== null && a > OFFICIAL_STALE_S / 60 ? [p[0], null] : p;
      });
      if (hasValues(pts))
        se.push({ label: T("chart.official", { dir: T("dir." + dir + "_short") }), color: COLOR[dir],
                  dash: [5, 4], points: pts });
    });
    var bands = [];
    DIRS.forEach(function (dir) {
      var f = ahead ? hist[dir + "/fc"] : null;
      if (!f || !f.rows.length) return;
      bands.push({ color: BAND[dir], points: f.rows.map(function (r) { return [r[0], r[1] / 60, r[3] / 60]; }) });
      se.push({ label: T(f.basis === "short" ? "chart.forecast_short" : "chart.forecast", { dir: T("dir." + dir + "_short") }),
                color: COLOR[dir], dash: [4, 3], width: 1.5,
                points: f.rows.map(function (r) { return [r[0], r[2] / 60]; }) });
    });
    POEChart.draw(canvas("c-wait-" + key), { series: se, bands: bands, x0: now - span, x1: now + (ahead || 0),
                                             xTicks: ticks(kind), yUnit: T("chart.min") });
    POEChart.keys(document.getElementById("k-wait-" + key), se, T("chart.wait_keys", { tz: tz }));
  }

  function drawFlow(dir, short) {
    var c = hist[dir + "/d1"];
    var se = [
      { label: T("chart.arrivals"), color: COLOR[dir], points: c ? series(c, "arrivals") : [] },
      { label: T("chart.departures"), color: "#2e7d32", points: c ? series(c, "departures") : [], dash: [5, 3] }
    ];
    POEChart.draw(canvas("c-flow-" + short), { series: se, x0: histAt - 86400, x1: histAt, xTicks: ticks("24h"),
                                               yUnit: T("chart.per_min", { n: c ? c.step / 60 : 5 }) });
    POEChart.keys(document.getElementById("k-flow-" + short), se);
  }

  function drawLanes(dir, short) {
    var c = hist[dir + "/d1"];
    var max = queue ? queue.max : 0;
    var se = [{ label: T("chart.lanes_open"), color: COLOR[dir], points: c ? series(c, "lanes_open") : [] }];
    if (max > 0) se.push({ label: T("chart.maximum", { n: max }), color: "#5b6570", dash: [6, 4], width: 1.5,
                           points: [[histAt - 86400, max], [histAt, max]] });
    POEChart.draw(canvas("c-lanes-" + short), { series: se, x0: histAt - 86400, x1: histAt, xTicks: ticks("24h"),
                                                yUnit: T("chart.lanes"), yMaxAtLeast: max || 1 });
    POEChart.keys(document.getElementById("k-lanes-" + short), se);
  }

  /* Mean wait per hour of the week (Monday 00 = 0), local US-side time. */
  function typicalWeek(c) {
    var sum = new Array(168).fill(0), n = new Array(168).fill(0);
    if (c) {
      c.time.forEach(function (t, i) {
        var w = c.wait_s ? c.wait_s[i] : null;
        if (w === null || w === undefined) return;
        /* a row covers the step ending at its time: label it by its start */
        var lp = POE.localParts((t - c.step) * 1000, tz);   /* wd 0 = Sunday */
        var k = ((lp.wd + 6) % 7) * 24 + Math.floor(lp.min / 60);
        sum[k] += w / 60;
        n[k]++;
      });
    }
    return sum.map(function (s, k) { return [k, n[k] ? s / n[k] : null]; });
  }

  function drawWeek() {
    var se = DIRS.map(function (dir) {
      return { label: T("dir." + dir + "_short"), color: COLOR[dir], points: typicalWeek(hist[dir + "/d35"]) };
    });
    /* the language's own short weekday names, Monday first (2024-01-01 was a Monday) */
    var wfmt = new Intl.DateTimeFormat(POE_I18N.locale(), { weekday: "short", timeZone: "UTC" });
    var days = [0, 1, 2, 3, 4, 5, 6].map(function (i) { return wfmt.format(new Date(Date.UTC(2024, 0, 1 + i))); });
    POEChart.draw(canvas("c-week"), {
      series: se, x0: 0, x1: 167, yUnit: T("chart.min"),
      xTicks: function () { return days.map(function (d, i) { return { x: i * 24, label: d }; }); }
    });
    POEChart.keys(document.getElementById("k-week"), se, T("chart.week_keys", { tz: tz }));
  }

  function drawAll() {
    drawWait("24h", 86400, "24h", "d1", null, 12 * 3600);
    drawWait("7d", 7 * 86400, "7d", "d35");
    drawWait("1y", 365 * 86400, "1y", "y1", "d35");
    drawFlow("northbound", "nb");
    drawFlow("southbound", "sb");
    drawLanes("northbound", "nb");
    drawLanes("southbound", "sb");
    drawWeek();
  }

  /* ---- loop ------------------------------------------------------------------- */

  function showOffline(sinceMs) {
    ui.offline.hidden = !sinceMs;
    if (sinceMs) ui.offline.textContent = T("offline.banner", { age: POE.ageText((Date.now() - sinceMs) / 1000) });
    document.body.dataset.offline = sinceMs ? "1" : "";
    document.body.classList.toggle("is-offline", !!sinceMs);
  }

  function head() {
    document.title = T("x.doc_title", { name: crossing.name });
    ui.name.textContent = crossing.name;
    ui.sub.textContent = crossing.id + " · " + T("border.word", { border: T("border." + crossing.border) }) +
                         " · " + POE.region(crossing.id);
    if (crossing.other_name) {
      ui.sub.appendChild(document.createTextNode(" · ↔ "));
      var on = POE.el("span", null, crossing.other_name);
      on.dataset.name = "1";
      ui.sub.appendChild(on);
    }
    ui.star.textContent = "";
    ui.star.appendChild(POE_WATCH.button(crossing));
    ui.notices.textContent = "";
    POE.renderNotices(ui.notices, crossing, tz);
  }

  function show(f) {
    lastFeed = f;
    crossing = f.crossings[0];
    tz = crossing.us_tz || "UTC";
    head();
    ui.json.href = "/v1/crossings/" + crossing.id;
    pickQueue(fillQueues());
    renderNow(f);
    showOffline(f._offlineMs ? POE.parseIso(f.generated) * 1000 : 0);
    if (!f._offlineMs) POE_WATCH.check(f);
    document.body.dataset.generated = f.generated;
    return f;
  }

  function live() {
    return POE.getJson("/v1/crossings/" + encodeURIComponent(id)).then(show, function (e) {
      if (lastFeed) showOffline(POE.parseIso(lastFeed.generated) * 1000);
      throw e;
    });
  }

  /* ---- hours: posted beside observed, per side and mode ------------------- */

  var hoursDoc = null;

  /* Per side and mode with lanes: the posted hours, the observed ones
   * (learned from the side's lanes: weeks, confidence, exceptions), where
   * they differ, and what the board would say now. Times are the side's
   * own wall clock (its zone is named), in the language's conventions. */
  function renderHours() {
    var h = hoursDoc, box = document.getElementById("hours");
    if (!h) return;
    box.textContent = "";
    var t = POE.el("table", "hours-table"), head = POE.el("tr");
    [T("hours.th_side"), T("hours.th_mode"), T("hours.th_posted"), T("hours.th_observed"),
     T("hours.th_notes"), T("hours.th_now")].forEach(function (x) {
      var th = POE.el("th", null, x);
      th.scope = "col";
      head.appendChild(th);
    });
    t.appendChild(head);
    var rows = 0;
    var SIDE = { US: T("hours.side_US"), MX: T("hours.side_MX"), CA: T("hours.side_CA") };
    [["us", "US"], ["other", h.other.country]].forEach(function (sd) {
      var side = h[sd[0]];
      POE.MODES.forEach(function (m) {
        var md = side.modes[m];
        if (!md || !md.observed) return;   /* no lanes of that mode */
        var o = md.observed, tr = POE.el("tr");
        tr.dataset.side = sd[0];
        tr.dataset.mode = m;
        var who = POE.el("th", "hside", SIDE[sd[1]] + " ");
        who.scope = "row";
        var zone = POE.el("span", "tz", "(" + side.tz + ")");
        zone.dataset.name = "1";   /* an IANA zone name, not words */
        who.appendChild(zone);
        tr.appendChild(who);
        tr.appendChild(POE.el("td", null, POE.modeLabel(m)));
        tr.appendChild(POE.el("td", "posted", md.posted.known ? POE.rulesText(md.posted) : T("hours.unknown_word")));
        var obs = o.known ? T("hours.obs_known", { rules: POE.rulesText(o), weeks: o.weeks,
                                                    conf: T("hours.conf." + o.confidence_level) })
                          : T("hours.obs_unknown", { why: POE.whyText(o.why) });
        if (o.known && o.why) obs += " (" + POE.whyText(o.why) + ")";
        /* lane types keeping other hours than their mode (a NEXUS lane closing earlier) */
        Object.keys(md.lane_types || {}).forEach(function (lt) {
          obs += "; " + T("hours.lane_type", { lane: POE.laneLabel(lt), rules: POE.rulesText(md.lane_types[lt]) });
        });
        tr.appendChild(POE.el("td", "observed", obs));
        var notes = md.deviations.list.map(POE.devText);
        (o.exceptions || []).forEach(function (e) { notes.push(POE.excText(e)); });
        var td = POE.el("td", notes.length ? "dev" : null, notes.length ? "⚠ " + notes.join("; ") : "—");
        tr.appendChild(td);
        tr.appendChild(POE.el("td", "hnow", POE.hoursLabel(POE.sideHours(side, [m], Date.now()))));
        t.appendChild(tr);
        rows++;
      });
    });
    if (rows) box.appendChild(t);
    else box.appendChild(POE.el("p", "status", T("lanes.none")));
  }

  function loadHours() {
    return POE.getJson("/v1/hours/" + encodeURIComponent(id)).then(function (h) {
      hoursDoc = h;
      renderHours();
    }).catch(function (e) {
      document.getElementById("hours").textContent = T("hours.unavailable", { error: e.message });
    });
  }

  function charts() {
    if (!queue) return Promise.resolve();
    return loadHistory().then(drawAll);
  }

  function setStatus(t, bad) {
    ui.status.textContent = t;
    ui.status.classList.toggle("bad", !!bad);
  }

  function fail(e) { setStatus(T("feed.unavailable", { error: e.message }), true); }

  function liveStatus() {
    setStatus(POE.live && POE.live.on() ? T("x.live_status", { b: HISTORY_MS / 1000 })
                                        : T("x.status", { a: LIVE_MS / 1000, b: HISTORY_MS / 1000 }));
  }

  function start() {
    POE_I18N.apply();
    POE_I18N.switcher(ui.lang);
    POE_I18N.onChange(function () {
      fmt = {};
      if (lastFeed) show(lastFeed);
      if (histAt) drawAll();
      renderHours();
      liveStatus();
    });
    ui.queue.addEventListener("change", function () {
      pickQueue(fillQueues());
      var u = new URL(location.href);
      u.searchParams.set("queue", ui.queue.value);
      window.history.replaceState(null, "", u.pathname + u.search);
      hist = {};
      loadHistory().then(drawAll).catch(fail);
    });
    window.addEventListener("resize", function () { if (histAt) drawAll(); });
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(function () {});

    var pending = null;
    POE.live.start("/v1/stream?crossing=" + encodeURIComponent(id), function (f) { show(f); liveStatus(); }, function (u) {
      if (!lastFeed || lastFeed._offlineMs || !POE.applyUpdate(lastFeed, u) || pending) return;
      pending = setTimeout(function () { pending = null; show(lastFeed); }, 200);
    });
    live().then(loadHours).then(charts).then(function () {
      liveStatus();
      document.body.dataset.readyMs = Math.round(performance.now());
      document.body.dataset.ready = "1";
    }).catch(fail);
    /* with the stream on, every sixth tick still polls: queues turning stale publish no update */
    var tick = 0;
    setInterval(function () { if (!POE.live.on() || ++tick % 6 === 0) live().catch(fail); }, LIVE_MS);
    setInterval(function () { if (queue) loadHistory().then(drawAll).catch(fail); }, HISTORY_MS);
  }

  POE_I18N.load(POE_I18N.pick()).then(start);
})();
