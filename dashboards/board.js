/* poenet live board: every crossing, both directions side by side, per mode
 * and lane type, from /v1/crossings (refreshed every REFRESH_MS) and the
 * hours from /v1/hours (once). Filters and sort order live in the URL hash
 * so a board can be bookmarked. Words come from the catalogs (i18n.js);
 * starred crossings (watch.js) come first. When the feed cannot be reached
 * the last one stays, greyed, under a banner giving its age. */
"use strict";

(function () {
  var REFRESH_MS = 10000, LIVE_REFRESH_MS = 60000;   /* polls: without / with the live stream */
  var T = POE_I18N.t;
  var feed = null, hours = {}, timer = null;
  var ui = {
    border: document.getElementById("f-border"),
    region: document.getElementById("f-region"),
    mode: document.getElementById("f-mode"),
    text: document.getElementById("f-text"),
    sort: document.getElementById("f-sort"),
    body: document.getElementById("board"),
    status: document.getElementById("status"),
    count: document.getElementById("count"),
    offline: document.getElementById("offline"),
    lang: document.getElementById("lang"),
    threshold: document.getElementById("w-threshold"),
    enable: document.getElementById("w-enable"),
    wstate: document.getElementById("w-state")
  };

  /* ---- URL hash <-> filters ---------------------------------------------- */

  function readHash() {
    var h = location.hash.replace(/^#/, "");
    h.split("&").forEach(function (kv) {
      var p = kv.split("=");
      var v = decodeURIComponent(p[1] || "");
      if (p[0] === "border") ui.border.value = v;
      if (p[0] === "region") ui.region.dataset.want = v;
      if (p[0] === "mode") ui.mode.value = v;
      if (p[0] === "q") ui.text.value = v;
      if (p[0] === "sort") ui.sort.value = v;
    });
  }

  function writeHash() {
    var parts = [];
    [["border", ui.border.value], ["region", ui.region.value], ["mode", ui.mode.value],
     ["q", ui.text.value], ["sort", ui.sort.value === "name" ? "" : ui.sort.value]]
      .forEach(function (p) { if (p[1]) parts.push(p[0] + "=" + encodeURIComponent(p[1])); });
    var h = parts.length ? "#" + parts.join("&") : "";
    if (h !== location.hash && !(h === "" && location.hash === "")) {
      history.replaceState(null, "", location.pathname + location.search + h);
    }
  }

  /* ---- model --------------------------------------------------------------- */

  /* The (mode, lane) rows of a crossing: the union of both directions'
   * queues, in the feed's order (modes, then lane types). */
  function queueRows(c, modeFilter) {
    var seen = {};
    c.directions.forEach(function (d) {
      d.queues.forEach(function (q) { seen[q.mode + "/" + q.lane] = true; });
    });
    var rows = [];
    POE.MODES.forEach(function (m) {
      if (modeFilter && m !== modeFilter) return;
      POE.LANES.forEach(function (l) { if (seen[m + "/" + l]) rows.push({ mode: m, lane: l }); });
    });
    return rows;
  }

  function findQueue(d, mode, lane) {
    for (var i = 0; i < d.queues.length; i++)
      if (d.queues[i].mode === mode && d.queues[i].lane === lane) return d.queues[i];
    return null;
  }

  function maxWait(c, modeFilter) {
    var m = -1;
    c.directions.forEach(function (d) {
      d.queues.forEach(function (q) {
        if ((!modeFilter || q.mode === modeFilter) && q.wait_min !== null && q.wait_min > m) m = q.wait_min;
      });
    });
    return m;
  }

  /* Open by its hours (posted, else observed: POE.sideHours), for the
   * modes the direction lists. */
  function hoursState(c, d, nowMs) {
    var h = hours[c.id];
    if (!h) return POE.sideHours(null, [], nowMs);
    var side = d.into === "US" ? h.us : h.other;
    var modes = {};
    d.queues.forEach(function (q) { modes[q.mode] = true; });
    var list = Object.keys(modes);
    if (!list.length) list = POE.MODES;
    return POE.sideHours(side, list, nowMs);
  }

  /* ---- rendering ------------------------------------------------------------ */

  /* r: the row's mode and lane; q: the queue, null when this direction
   * does not have it (the cell stays empty, keyed by the row). */
  function queueCell(c, d, r, q, genS) {
    var td = POE.el("td", "q");
    td.dataset.key = c.id + "/" + d.direction + "/" + r.mode + "/" + r.lane + (q ? "" : "/-");
    if (!q) {
      td.classList.add("absent");
      td.appendChild(POE.el("span", "qdir", POE.dirText(d.direction)));
      td.appendChild(POE.el("span", "wait", "—"));
      td.title = T("absent.title");
      return td;
    }
    td.dataset.status = q.status;
    td.appendChild(POE.el("span", "qdir", POE.dirText(d.direction)));
    var sev = q.status === "open" ? POE.severity(q.wait_min) : -1;
    var wait = POE.el("span", "wait sev" + sev, POE.statusText(q));
    if (sev >= 0) {
      wait.title = POE.severityText(sev);
      wait.setAttribute("aria-label", wait.textContent + ", " + wait.title);
    }
    if (q.wait_min !== null) wait.dataset.min = q.wait_min;
    if (q.method === "official" && q.official) POE.markOfficial(wait, q);
    td.appendChild(wait);

    var meta = POE.el("span", "meta");
    var lanes = POE.el("span", "lanes");
    lanes.textContent = (q.lanes_open === null ? "–" : q.lanes_open) + "/" + q.max_lanes;
    lanes.title = T("lanes.title");
    meta.appendChild(lanes);
    var upd = POE.parseIso(q.updated);
    var age = POE.el("span", "age", upd === null ? T("age.never") : POE.ageText(genS - upd));
    if (upd !== null) {
      age.title = T("age.title", { time: POE_I18N.time(upd, d.tz) });
      if (genS - upd > 60) age.classList.add("old");
    }
    meta.appendChild(age);
    var bt = q.best_time;
    if (bt && bt.saving_s >= 300) {
      /* "best time to cross in the next 12 h": worth showing from 5 min saved */
      var at;
      try {
        at = new Intl.DateTimeFormat(POE_I18N.locale(), { timeZone: d.tz || "UTC", hour: "2-digit",
                                                          minute: "2-digit" }).format(new Date(bt.time_s * 1000));
      } catch (e) { at = POE_I18N.time(bt.time_s, d.tz); }
      var best = POE.el("span", "best", T("best.label", { time: at, min: Math.round(bt.saving_s / 60) }));
      best.title = T("best.title", { tz: d.tz || "UTC", p50: Math.round(bt.p50_s / 60),
                                     now: Math.round(bt.now_p50_s / 60) }) +
                   (bt.basis === "short" ? T("best.short") : "");
      meta.appendChild(best);
    } else if (bt && q.status === "open") {
      var nowBest = POE.el("span", "best", T("best.now"));
      nowBest.title = T("best.now_title");
      meta.appendChild(nowBest);
    }
    if (q.quality) {
      var conf = POE.el("span", "conf", Math.round(q.quality.confidence * 100) + "%");
      conf.title = T("conf.title", { inputs: q.quality.inputs.join(", ") });
      meta.appendChild(conf);
    }
    td.appendChild(meta);
    var off = POE.officialSpan(q.official, genS, d.tz);
    if (off !== null) td.appendChild(off);
    td.classList.add("st-" + q.status);
    return td;
  }

  function dirHeader(c, d, nowMs) {
    var th = POE.el("th", "dir");
    th.dataset.dir = d.direction;
    th.scope = "col";
    var name = POE.el("span", "dname", POE.dirText(d.direction));
    th.appendChild(name);
    th.appendChild(POE.el("span", "into", POE.intoText(d.into)));
    var hs = hoursState(c, d, nowMs);
    var badge = POE.el("span", "hours h-" + hs.state + (hs.source === "observed" ? " h-obs" : "") +
                       (hs.deviations.length ? " h-dev" : ""), POE.hoursLabel(hs));
    badge.dataset.source = hs.source || "";
    badge.title = hs.source === "observed" ? T("hours.title_observed", { rules: hs.rules, tz: hs.tz })
                                           : T("hours.title");
    if (hs.deviations.length)
      badge.title += " " + T("hours.title_dev", { list: hs.deviations.map(POE.devText).join("; ") });
    th.appendChild(badge);
    return th;
  }

  function crossingGroup(c, modeFilter, genS, nowMs) {
    var tb = POE.el("tbody", "crossing");
    tb.dataset.id = c.id;
    var head = POE.el("tr", "chead");
    if (POE_WATCH.starred(c.id)) tb.classList.add("starred");
    var title = POE.el("th", "cname");
    title.colSpan = 2;
    title.scope = "rowgroup";
    title.appendChild(POE_WATCH.button(c, render));
    var a = POE.el("a", null, c.name);
    a.href = "/crossing/" + c.id;
    a.dataset.name = "1";
    title.appendChild(a);
    var sub = POE.el("span", "csub");
    sub.appendChild(document.createTextNode(c.id + " · " + T("border." + c.border) + " · "));
    sub.appendChild(POE.el("span", null, POE.region(c.id)));
    if (c.other_name) {
      sub.appendChild(document.createTextNode(" · ↔ "));
      var on = POE.el("span", null, c.other_name);
      on.dataset.name = "1";
      sub.appendChild(on);
    }
    title.appendChild(sub);
    head.appendChild(title);
    c.directions.forEach(function (d) { head.appendChild(dirHeader(c, d, nowMs)); });
    tb.appendChild(head);
    if (c.notices && c.notices.length) {
      var ntr = POE.el("tr", "nrow"), ntd = POE.el("td");
      ntd.colSpan = 4;
      POE.renderNotices(ntd, c, c.directions[0] && c.directions[0].tz);
      ntr.appendChild(ntd);
      tb.appendChild(ntr);
    }

    var rows = queueRows(c, modeFilter);
    if (!rows.length) {
      var tr = POE.el("tr", "empty");
      var td = POE.el("td", null, modeFilter ? T("mode.none", { mode: POE.modeLabel(modeFilter) }) : T("lanes.none"));
      td.colSpan = 4;
      tr.appendChild(td);
      tb.appendChild(tr);
    }
    rows.forEach(function (r) {
      var tr = POE.el("tr", "qrow");
      tr.appendChild(POE.el("td", "mode", POE.modeLabel(r.mode)));
      tr.appendChild(POE.el("td", "lane", POE.laneLabel(r.lane)));
      c.directions.forEach(function (d) { tr.appendChild(queueCell(c, d, r, findQueue(d, r.mode, r.lane), genS)); });
      tb.appendChild(tr);
    });
    return tb;
  }

  function fillRegions() {
    var want = ui.region.dataset.want || ui.region.value;
    var seen = {};
    feed.crossings.forEach(function (c) { seen[POE.region(c.id)] = true; });
    var names = Object.keys(seen).sort();
    if (ui.region.options.length === names.length + 1 && ui.region.dataset.lang === POE_I18N.lang()) return;
    ui.region.dataset.lang = POE_I18N.lang();
    while (ui.region.options.length > 1) ui.region.remove(1);
    names.forEach(function (n) { var o = POE.el("option", null, n); o.value = n; ui.region.appendChild(o); });
    if (want && seen[want]) ui.region.value = want;
    delete ui.region.dataset.want;
  }

  function render() {
    if (!feed) return;
    fillRegions();
    var border = ui.border.value, reg = ui.region.value, mode = ui.mode.value;
    var text = ui.text.value.trim().toLowerCase();
    var list = feed.crossings.filter(function (c) {
      if (border && c.border !== border) return false;
      if (reg && POE.region(c.id) !== reg) return false;
      if (mode && !queueRows(c, mode).length) return false;
      if (text && (c.name + " " + c.id + " " + c.other_name).toLowerCase().indexOf(text) < 0) return false;
      return true;
    });
    var key = ui.sort.value;
    list.sort(function (a, b) {
      var sa = POE_WATCH.starred(a.id), sb = POE_WATCH.starred(b.id);
      if (sa !== sb) return sa ? -1 : 1;   /* the watch list first */
      if (key === "wait") return maxWait(b, mode) - maxWait(a, mode) || a.name.localeCompare(b.name);
      if (key === "id") return a.id.localeCompare(b.id);
      if (key === "border") return a.border.localeCompare(b.border) || a.name.localeCompare(b.name);
      if (key === "region") return POE.region(a.id).localeCompare(POE.region(b.id)) || a.name.localeCompare(b.name);
      return a.name.localeCompare(b.name);
    });
    var genS = POE.parseIso(feed.generated);
    var nowMs = genS * 1000;
    var frag = document.createDocumentFragment();
    list.forEach(function (c) { frag.appendChild(crossingGroup(c, mode, genS, nowMs)); });
    /* replace all crossing groups at once: no flicker, no stale rows */
    var old = ui.body.querySelectorAll("tbody.crossing");
    for (var i = 0; i < old.length; i++) old[i].remove();
    ui.body.appendChild(frag);
    ui.count.textContent = T("count", { n: list.length, total: feed.crossings.length });
    document.body.classList.toggle("is-offline", !!feed._offlineMs);
    writeHash();
  }

  function setStatus(text, bad) {
    ui.status.textContent = text;
    ui.status.classList.toggle("bad", !!bad);
  }

  /* The banner over old data: never shown as if current. */
  function showOffline(sinceMs) {
    ui.offline.hidden = !sinceMs;
    if (sinceMs) ui.offline.textContent = T("offline.banner", { age: POE.ageText((Date.now() - sinceMs) / 1000) });
    document.body.dataset.offline = sinceMs ? "1" : "";
  }

  function feedStatus() {
    if (!feed) return;
    setStatus(T("feed.generated", { time: POE_I18N.time(POE.parseIso(feed.generated)) }) + " · " +
              (POE.live && POE.live.on() ? T("feed.live") : T("feed.refresh", { n: REFRESH_MS / 1000 })));
  }

  function show(f) {
    feed = f;
    render();
    if (f._offlineMs) {
      showOffline(POE.parseIso(f.generated) * 1000);
    } else {
      showOffline(0);
      POE_WATCH.check(f);
    }
    feedStatus();
    document.body.dataset.generated = f.generated;
    if (!document.body.dataset.ready) document.body.dataset.readyMs = Math.round(performance.now());
    document.body.dataset.ready = "1";
  }

  function refresh() {
    return POE.getJson("/v1/crossings").then(show).catch(function (e) {
      setStatus(T("feed.unavailable", { error: e.message }), true);
      if (feed) {
        feed._offlineMs = Date.now();
        render();
        showOffline(POE.parseIso(feed.generated) * 1000);
      }
    });
  }

  function loadHours() {
    return POE.getJson("/v1/hours").then(function (h) {
      hours = {};
      h.crossings.forEach(function (c) { hours[c.id] = c; });
    }).catch(function () { hours = {}; });
  }

  /* With the stream on, a slow poll still catches queues turning stale
   * (no update is published for data that stops). */
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () { refresh().then(schedule); }, POE.live.on() ? LIVE_REFRESH_MS : REFRESH_MS);
  }

  var pending = null;
  function onWait(u) {
    if (!feed || feed._offlineMs || !POE.applyUpdate(feed, u)) return;
    if (pending) return;
    pending = setTimeout(function () {   /* a burst of updates renders once */
      pending = null;
      render();
      feedStatus();
      POE_WATCH.check(feed);
      document.body.dataset.generated = feed.generated;
    }, 200);
  }

  function watchControls() {
    ui.threshold.value = POE_WATCH.threshold();
    ui.threshold.addEventListener("change", function () { POE_WATCH.setThreshold(ui.threshold.value); });
    function state() {
      var p = POE_WATCH.permission();
      ui.wstate.textContent = p === "granted" ? T("watch.on") : p === "denied" ? T("watch.denied") : "";
      ui.enable.hidden = p === "granted" || p === "unsupported";
    }
    ui.enable.addEventListener("click", function () { POE_WATCH.enable().then(state); });
    state();
    POE_I18N.onChange(state);
  }

  function start() {
    POE_I18N.apply();
    document.title = T("board.doc_title");
    POE_I18N.switcher(ui.lang);
    POE_I18N.onChange(function () {
      document.title = T("board.doc_title");
      render();
      feedStatus();
      if (feed && feed._offlineMs) showOffline(POE.parseIso(feed.generated) * 1000);
    });
    watchControls();
    readHash();
    [ui.border, ui.region, ui.mode, ui.sort].forEach(function (s) { s.addEventListener("change", render); });
    ui.text.addEventListener("input", render);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) refresh().then(schedule);
    });
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(function () {});
    loadHours().then(refresh).then(function () {
      POE.live.start("/v1/stream", function (f) { show(f); schedule(); }, onWait);
      schedule();
    });
  }

  POE_I18N.load(POE_I18N.pick()).then(start);
})();
