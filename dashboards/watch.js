/* poenet dashboards — the traveller's watch list, kept in this browser only
 * (localStorage; no account, nothing personal leaves the device).
 *
 * Starred crossings come first on the board. With the visitor's permission
 * (Notification API), a notification fires when an open queue of a starred
 * crossing falls below the chosen threshold: once per crossing of the
 * line, not again until it has been at or above the threshold. */
"use strict";

var POE_WATCH = (function () {
  var KEY = "poe.watch", TKEY = "poe.threshold", LKEY = "poe.below";
  var DEFAULT_THRESHOLD = 20;

  function read(k, dflt) {
    try { var v = JSON.parse(localStorage.getItem(k)); return v === null ? dflt : v; } catch (e) { return dflt; }
  }
  function write(k, v) {
    try { localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* private mode: kept for this page only */ }
  }

  var stars = read(KEY, []);
  if (!Array.isArray(stars)) stars = [];
  var below = read(LKEY, {});   /* queue key -> true while below the threshold */
  if (!below || typeof below !== "object") below = {};

  function starred(id) { return stars.indexOf(String(id)) >= 0; }

  function toggle(id) {
    id = String(id);
    var i = stars.indexOf(id);
    if (i >= 0) stars.splice(i, 1); else stars.push(id);
    write(KEY, stars);
    return i < 0;
  }

  function threshold() {
    var t = +read(TKEY, DEFAULT_THRESHOLD);
    return isFinite(t) && t >= 1 && t <= 600 ? t : DEFAULT_THRESHOLD;
  }
  function setThreshold(t) { t = Math.round(+t); if (t >= 1 && t <= 600) write(TKEY, t); }

  function permission() { return "Notification" in window ? Notification.permission : "unsupported"; }

  function enable() {
    if (!("Notification" in window)) return Promise.resolve("unsupported");
    return Promise.resolve(Notification.requestPermission());
  }

  /* A star button for crossing c (name for its accessible label). */
  function button(c, onchange) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "star";
    function draw() {
      var on = starred(c.id);
      b.textContent = on ? "★" : "☆";
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.setAttribute("aria-label", POE_I18N.t(on ? "star.remove" : "star.add", { name: c.name }));
      b.title = b.getAttribute("aria-label");
    }
    draw();
    b.addEventListener("click", function () { toggle(c.id); draw(); if (onchange) onchange(); });
    return b;
  }

  /* Called with every feed: notify the starred queues that crossed below
   * the threshold since the last feed. Returns the notifications made
   * ({title, body}), also when the browser cannot show them. */
  function check(feed) {
    var t = threshold(), made = [];
    if (!feed || feed._offlineMs) return made;  /* old data never notifies */
    (feed.crossings || []).forEach(function (c) {
      if (!starred(c.id)) return;
      c.directions.forEach(function (d) {
        d.queues.forEach(function (q) {
          var k = c.id + "/" + d.direction + "/" + q.mode + "/" + q.lane;
          if (q.status !== "open" || q.wait_min === null) return;
          var now = q.wait_min < t;
          if (now && below[k] === false) {
            var n = {
              title: POE_I18N.t("notify.title", { name: c.name, wait: POE.waitText(q.wait_min) }),
              body: POE_I18N.t("notify.body", { dir: POE.dirText(d.direction), mode: POE.modeLabel(q.mode),
                                               lane: POE.laneLabel(q.lane), n: t })
            };
            made.push(n);
            if (permission() === "granted") {
              try { new Notification(n.title, { body: n.body, tag: k, icon: "/dashboards/icon.svg" }); }
              catch (e) { /* some browsers only notify from a service worker */ }
            }
          }
          below[k] = now;
        });
      });
    });
    write(LKEY, below);
    return made;
  }

  return { starred: starred, toggle: toggle, threshold: threshold, setThreshold: setThreshold,
           permission: permission, enable: enable, button: button, check: check,
           list: function () { return stars.slice(); } };
})();
