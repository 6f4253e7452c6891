/* poenet dashboards — languages (English, Spanish, French).
 *
 * The words of the pages live in message catalogs, one JSON file per
 * language under /dashboards/i18n/ with the same keys (tests/unit/
 * test_i18n.c checks that none is missing). The language is, in order:
 * ?lang= in the URL, the one the visitor chose with the switch (remembered
 * in localStorage), the first of navigator.languages (the browser's
 * Accept-Language) that we have, English. Times are formatted with the
 * language's locale in the zone given by the caller (a crossing's own).
 *
 * A key missing from the chosen catalog falls back to English; a key
 * missing from English too is reported (console.error, POE_I18N.missing)
 * and shown as the key, so a test sees it. A catalog that does not load or
 * parse falls back to English with a console warning. */
"use strict";

var POE_I18N = (function () {
  var LANGS = ["en", "es", "fr"];
  var STORE = "poe.lang";
  var cat = {}, en = null, lang = "en", missing = [], listeners = [];

  function stored() {
    try { return localStorage.getItem(STORE); } catch (e) { return null; }
  }

  /* The language to use before any catalog is loaded. */
  function pick() {
    var q = new URLSearchParams(location.search).get("lang");
    if (q && LANGS.indexOf(q) >= 0) return q;
    var s = stored();
    if (s && LANGS.indexOf(s) >= 0) return s;
    var prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
    for (var i = 0; i < prefs.length; i++) {
      var p = String(prefs[i]).toLowerCase().split("-")[0];
      if (LANGS.indexOf(p) >= 0) return p;
    }
    return "en";
  }

  function fetchCatalog(l) {
    return fetch("/dashboards/i18n/" + l + ".json", { cache: "no-cache" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (c) {
      if (!c || typeof c !== "object" || Array.isArray(c)) throw new Error("not an object");
      return c;
    });
  }

  /* Load language l (and English behind it). Resolves once t() works. */
  function load(l) {
    lang = LANGS.indexOf(l) >= 0 ? l : "en";
    var jobs = [en ? Promise.resolve(en) : fetchCatalog("en").catch(function (e) {
      console.warn("poenet: English catalog unavailable: " + e.message);
      return {};
    })];
    if (lang !== "en") {
      jobs.push(fetchCatalog(lang).catch(function (e) {
        console.warn("poenet: catalog " + lang + " unusable (" + e.message + "); English shown");
        return null;
      }));
    }
    return Promise.all(jobs).then(function (r) {
      en = r[0];
      if (lang !== "en" && !r[1]) lang = "en";
      cat = lang === "en" ? en : r[1];
      document.documentElement.lang = lang === "fr" ? "fr-CA" : lang === "es" ? "es-MX" : "en";
      return lang;
    });
  }

  /* The message for key with {name} placeholders filled from params. */
  function t(key, params) {
    var s = cat[key];
    if (typeof s !== "string") s = en && en[key];
    if (typeof s !== "string") {
      if (missing.indexOf(key) < 0) {
        missing.push(key);
        console.error("poenet: message key missing from the catalogs: " + key);
      }
      s = key;
    }
    if (params) {
      s = s.replace(/\{(\w+)\}/g, function (m, n) {
        return params[n] === undefined || params[n] === null ? m : String(params[n]);
      });
    }
    return s;
  }

  function has(key) { return typeof cat[key] === "string" || (en && typeof en[key] === "string"); }

  function locale() {
    var l = cat._locale || "en-US";
    /* the browser's own regional variant of the language when it has one */
    var prefs = navigator.languages || [];
    for (var i = 0; i < prefs.length; i++)
      if (String(prefs[i]).toLowerCase().split("-")[0] === lang && prefs[i].indexOf("-") > 0) return prefs[i];
    return l;
  }

  var fmts = {};
  /* Date and time of Unix second sec in zone tz (default: the viewer's). */
  function time(sec, tz) {
    var k = locale() + "|" + (tz || "");
    if (!fmts[k]) {
      var o = { month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" };
      if (tz) o.timeZone = tz;
      try { fmts[k] = new Intl.DateTimeFormat(locale(), o); }
      catch (e) { delete o.timeZone; fmts[k] = new Intl.DateTimeFormat(locale(), o); }
    }
    return fmts[k].format(new Date(sec * 1000));
  }

  /* Elements carrying data-i18n (text), data-i18n-placeholder,
   * data-i18n-title and data-i18n-aria-label get their catalog text. */
  function apply(root) {
    root = root || document;
    root.querySelectorAll("[data-i18n]").forEach(function (e) { e.textContent = t(e.dataset.i18n); });
    root.querySelectorAll("[data-i18n-placeholder]").forEach(function (e) { e.placeholder = t(e.dataset.i18nPlaceholder); });
    root.querySelectorAll("[data-i18n-title]").forEach(function (e) { e.title = t(e.dataset.i18nTitle); });
    root.querySelectorAll("[data-i18n-aria-label]").forEach(function (e) {
      e.setAttribute("aria-label", t(e.dataset.i18nAriaLabel));
    });
  }

  /* The visible switch: a <select> of the languages by their own names. */
  function switcher(sel) {
    sel.textContent = "";
    var names = { en: "English", es: "Español", fr: "Français" };
    LANGS.forEach(function (l) {
      var o = document.createElement("option");
      o.value = l;
      o.textContent = names[l];
      o.lang = l;
      sel.appendChild(o);
    });
    sel.value = lang;
    sel.addEventListener("change", function () {
      try { localStorage.setItem(STORE, sel.value); } catch (e) { /* private mode: not remembered */ }
      var u = new URL(location.href);
      if (u.searchParams.has("lang")) {
        u.searchParams.delete("lang");
        history.replaceState(null, "", u.pathname + u.search + u.hash);
      }
      load(sel.value).then(function () {
        sel.value = lang;
        apply();
        listeners.forEach(function (f) { f(lang); });
      });
    });
  }

  return {
    LANGS: LANGS, pick: pick, load: load, t: t, has: has, time: time, apply: apply,
    switcher: switcher, locale: locale, missing: missing,
    lang: function () { return lang; },
    onChange: function (f) { listeners.push(f); }
  };
})();
