/* poenet dashboards — a small line chart on <canvas> (no library).
 * POEChart.draw(canvas, opts):
 *   opts.series: [{label, color, points: [[x, y|null], ...], dash: [..], fill: bool}]
 *   opts.x0, opts.x1: the x range; opts.xTicks(x0, x1) -> [{x, label}]
 *   opts.yMin (default 0), opts.yUnit (axis label), opts.yFormat(v)
 * A null y breaks the line; an isolated point is drawn as a dot. Returns
 * the number of points drawn; canvas.dataset.points records it. */
"use strict";

var POEChart = (function () {
  var PAD = { l: 46, r: 10, t: 8, b: 22 };

  function niceStep(range, n) {
    var raw = range / Math.max(1, n);
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function setup(canvas) {
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth || 600, h = canvas.clientHeight || 180;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return { ctx: ctx, w: w, h: h };
  }

  function draw(canvas, o) {
    var s = setup(canvas), ctx = s.ctx;
    var pw = s.w - PAD.l - PAD.r, ph = s.h - PAD.t - PAD.b;
    var x0 = o.x0, x1 = o.x1 > o.x0 ? o.x1 : o.x0 + 1;
    var yMax = 0;
    o.series.forEach(function (se) {
      se.points.forEach(function (p) { if (p[1] !== null && p[1] > yMax) yMax = p[1]; });
    });
    /* bands: [{color, points: [[x, lo, hi], ...]}], filled under the lines */
    (o.bands || []).forEach(function (b) {
      b.points.forEach(function (p) { if (p[2] > yMax) yMax = p[2]; });
    });
    if (o.yMaxAtLeast && yMax < o.yMaxAtLeast) yMax = o.yMaxAtLeast;
    if (yMax <= 0) yMax = 1;
    var yStep = niceStep(yMax, 4);
    yMax = Math.ceil(yMax / yStep) * yStep;
    var X = function (x) { return PAD.l + (x - x0) / (x1 - x0) * pw; };
    var Y = function (y) { return PAD.t + ph - y / yMax * ph; };

    /* grid and axes */
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#5b6570";
    ctx.strokeStyle = "#e3e8ed";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (var y = 0; y <= yMax + 1e-9; y += yStep) {
      ctx.beginPath();
      ctx.moveTo(PAD.l, Math.round(Y(y)) + 0.5);
      ctx.lineTo(PAD.l + pw, Math.round(Y(y)) + 0.5);
      ctx.stroke();
      ctx.fillText(o.yFormat ? o.yFormat(y) : String(Math.round(y * 100) / 100), PAD.l - 4, Y(y));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    (o.xTicks ? o.xTicks(x0, x1) : []).forEach(function (t) {
      var px = Math.round(X(t.x)) + 0.5;
      if (px < PAD.l - 1 || px > PAD.l + pw + 1) return;
      ctx.beginPath();
      ctx.moveTo(px, PAD.t);
      ctx.lineTo(px, PAD.t + ph);
      ctx.stroke();
      ctx.fillText(t.label, px, PAD.t + ph + 4);
    });
    if (o.yUnit) {
      ctx.save();
      ctx.translate(10, PAD.t + ph / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = "middle";
      ctx.fillText(o.yUnit, 0, 0);
      ctx.restore();
    }
    ctx.strokeStyle = "#9aa5b1";
    ctx.beginPath();
    ctx.moveTo(PAD.l + 0.5, PAD.t);
    ctx.lineTo(PAD.l + 0.5, PAD.t + ph + 0.5);
    ctx.lineTo(PAD.l + pw, PAD.t + ph + 0.5);
    ctx.stroke();

    /* bands */
    (o.bands || []).forEach(function (b) {
      var pts = b.points.filter(function (p) { return p[0] >= x0 && p[0] <= x1; });
      if (pts.length < 2) return;
      ctx.fillStyle = b.color;
      ctx.beginPath();
      pts.forEach(function (p, i) { if (i === 0) ctx.moveTo(X(p[0]), Y(p[2])); else ctx.lineTo(X(p[0]), Y(p[2])); });
      for (var i = pts.length - 1; i >= 0; i--) ctx.lineTo(X(pts[i][0]), Y(pts[i][1]));
      ctx.closePath();
      ctx.fill();
    });

    /* series */
    var drawn = 0;
    o.series.forEach(function (se) {
      ctx.strokeStyle = se.color;
      ctx.fillStyle = se.color;
      ctx.lineWidth = se.width || 2;
      ctx.setLineDash(se.dash || []);
      var pts = se.points.filter(function (p) { return p[0] >= x0 && p[0] <= x1; });
      var run = [];
      var flush = function () {
        if (run.length === 1) {
          ctx.beginPath();
          ctx.arc(X(run[0][0]), Y(run[0][1]), 2.5, 0, 2 * Math.PI);
          ctx.fill();
        } else if (run.length > 1) {
          ctx.beginPath();
          run.forEach(function (p, i) {
            if (i === 0) ctx.moveTo(X(p[0]), Y(p[1]));
            else ctx.lineTo(X(p[0]), Y(p[1]));
          });
          ctx.stroke();
        }
        drawn += run.length;
        run = [];
      };
      pts.forEach(function (p) { if (p[1] === null || p[1] === undefined) flush(); else run.push(p); });
      flush();
    });
    ctx.setLineDash([]);
    canvas.dataset.points = drawn;
    if (!drawn) {
      ctx.fillStyle = "#8a939c";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("no data archived in this period", PAD.l + pw / 2, PAD.t + ph / 2);
    }
    return drawn;
  }

  /* Legend keys into a container. */
  function keys(div, series, extra) {
    div.textContent = "";
    series.forEach(function (se) {
      var k = document.createElement("span");
      k.className = "key";
      k.style.background = se.color;
      if (se.dash) k.style.opacity = "0.6";
      div.appendChild(k);
      div.appendChild(document.createTextNode(se.label));
    });
    if (extra) div.appendChild(document.createTextNode("  " + extra));
  }

  return { draw: draw, keys: keys };
})();
