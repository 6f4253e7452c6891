/* poenet live board: every crossing, both directions side by side, per mode
 * and lane type, from /v1/crossings (refreshed every REFRESH_MS) and the
 * hours from /v1/hours (once). Filters and sort order live in the URL hash
 * so a board can be bookmarked. */
"use strict";

(function () {
  var REFRESH_MS = 10000;
  var feed = null, hours = {}, lastOk = null, timer = null;
  var ui = {
    border: document.getElementById("f-border"),
    region: document.getElementById("f-region"),
    mode: document.getElementById("f-mode"),
    text: document.getElementById("f-text"),
    sort: document.getElementById("f-sort"),
    body: document.getElementById("board"),
    status: document.getElementById("status"),
    count: document.getElementById("count")
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

  /* Open by its hours (posted, else observed), for the modes the
   * direction lists: POE.sideHours. */
  function hoursState(c, d, nowMs) {
    var h = hours[c.id];
    if (!h) return { state: "unknown", source: null, text: "", deviations: [] };
    var side = d.into === "US" ? h.us : h.other;
    var modes = {};
    d.queues.forEach(function (q) { modes[q.mode] = true; });
    var list = Object.keys(modes);
    if (!list.length) list = POE.MODES;
    return POE.sideHours(side, list, nowMs);
  }

  /* ---- rendering ------------------------------------------------------------ */

  function queueCell(c, d, q, genS) {
    var td = POE.el("td", "q");
    td.dataset.key = c.id + "/" + d.direction + "/" + (q ? q.mode + "/" + q.lane : "-");
    if (!q) {
      td.classList.add("absent");
      td.appendChild(POE.el("span", "wait", "—"));
      td.title = "not served in this direction";
      return td;
    }
    td.dataset.status = q.status;
    var sev = q.status === "open" ? POE.severity(q.wait_min) : -1;
    var wait = POE.el("span", "wait sev" + sev);
    if (q.status === "open") wait.textContent = POE.waitText(q.wait_min);
    else if (q.status === "closed") wait.textContent = q.closed_by === "hours" ? "closed (hours)" : "closed";
    else if (q.status === "stale") wait.textContent = "stale";
    else wait.textContent = "no data";
    if (q.wait_min !== null) wait.dataset.min = q.wait_min;
    td.appendChild(wait);

    var meta = POE.el("span", "meta");
    var lanes = POE.el("span", "lanes");
    lanes.textContent = (q.lanes_open === null ? "–" : q.lanes_open) + "/" + q.max_lanes;
    lanes.title = "lanes open of maximum";
    meta.appendChild(lanes);
    var upd = POE.parseIso(q.updated);
    var age = POE.el("span", "age", upd === null ? "never" : POE.ageText(genS - upd));
    if (upd !== null) {
      age.title = "last reading " + q.updated;
      if (genS - upd > 60) age.classList.add("old");
    }
    meta.appendChild(age);
    if (q.quality) {
      var conf = POE.el("span", "conf", Math.round(q.quality.confidence * 100) + "%");
      conf.title = "confidence; inputs: " + q.quality.inputs.join(", ");
      meta.appendChild(conf);
    }
    td.appendChild(meta);
    td.classList.add("st-" + q.status);
    return td;
  }

  function dirHeader(c, d, nowMs) {
    var th = POE.el("th", "dir");
    th.dataset.dir = d.direction;
    var name = POE.el("span", "dname", (d.direction === "northbound" ? "▲ Northbound" : "▼ Southbound"));
    th.appendChild(name);
    th.appendChild(POE.el("span", "into", "into " + d.into));
    var hs = hoursState(c, d, nowMs);
    var badge = POE.el("span", "hours h-" + hs.state + (hs.deviations.length ? " h-dev" : ""),
                       POE.hoursLabel(hs));
    badge.dataset.source = hs.source || "";
    var who = "the " + (d.into === "US" ? "US" : d.into) + " side's ";
    badge.title = (hs.source === "observed" ? who + "hours as observed from its lanes (none posted)"
                                           : who + "posted hours") +
                  (hs.deviations.length ? "; kept otherwise: " + hs.deviations.join("; ") : "");
    th.appendChild(badge);
    return th;
  }

  function crossingGroup(c, modeFilter, genS, nowMs) {
    var tb = POE.el("tbody", "crossing");
    tb.dataset.id = c.id;
    var head = POE.el("tr", "chead");
    var title = POE.el("th", "cname");
    title.colSpan = 2;
    var a = POE.el("a", null, c.name);
    a.href = "/crossing/" + c.id;
    title.appendChild(a);
    var sub = POE.el("span", "csub", c.id + " · " + c.border + " · " + POE.region(c.id) +
                     (c.other_name ? " · ↔ " + c.other_name : ""));
    title.appendChild(sub);
    head.appendChild(title);
    c.directions.forEach(function (d) { head.appendChild(dirHeader(c, d, nowMs)); });
    tb.appendChild(head);

    var rows = queueRows(c, modeFilter);
    if (!rows.length) {
      var tr = POE.el("tr", "empty");
      var td = POE.el("td", null, modeFilter ? "no " + modeFilter + " lanes" : "no lanes known");
      td.colSpan = 4;
      tr.appendChild(td);
      tb.appendChild(tr);
    }
    rows.forEach(function (r) {
      var tr = POE.el("tr", "qrow");
      tr.appendChild(POE.el("td", "mode", POE.MODE_LABEL[r.mode]));
      tr.appendChild(POE.el("td", "lane", POE.LANE_LABEL[r.lane]));
      c.directions.forEach(function (d) { tr.appendChild(queueCell(c, d, findQueue(d, r.mode, r.lane), genS)); });
      tb.appendChild(tr);
    });
    return tb;
  }

  function fillRegions() {
    var want = ui.region.dataset.want || ui.region.value;
    var seen = {};
    feed.crossings.forEach(function (c) { seen[POE.region(c.id)] = true; });
    var names = Object.keys(seen).sort();
    if (ui.region.options.length === names.length + 1) return;
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
    ui.count.textContent = list.length + " of " + feed.crossings.length + " crossings";
    writeHash();
  }

  function setStatus(text, bad) {
    ui.status.textContent = text;
    ui.status.classList.toggle("bad", !!bad);
  }

  function refresh() {
    return POE.getJson("/v1/crossings").then(function (f) {
      feed = f;
      lastOk = Date.now();
      render();
      setStatus("feed generated " + f.generated.replace("T", " ").replace("Z", " UTC") +
                " · refreshes every " + REFRESH_MS / 1000 + " s");
      document.body.dataset.generated = f.generated;
      if (!document.body.dataset.ready) document.body.dataset.readyMs = Math.round(performance.now());
      document.body.dataset.ready = "1";
    }).catch(function (e) {
      setStatus("feed unavailable (" + e.message + ")" +
                (lastOk ? "; showing data from " + POE.ageText((Date.now() - lastOk) / 1000) : ""), true);
    });
  }

  function loadHours() {
    return POE.getJson("/v1/hours").then(function (h) {
      hours = {};
      h.crossings.forEach(function (c) { hours[c.id] = c; });
    }).catch(function () { hours = {}; });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () { refresh().then(schedule); }, REFRESH_MS);
  }

  readHash();
  [ui.border, ui.region, ui.mode, ui.sort].forEach(function (s) { s.addEventListener("change", render); });
  ui.text.addEventListener("input", render);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh().then(schedule);
  });
  loadHours().then(refresh).then(schedule);
})();
