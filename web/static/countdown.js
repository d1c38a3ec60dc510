// drbot: moves the RTO countdowns of the page once a second. The page is
// complete without it; this only keeps the figures live. The clock is the
// server's (data-now) carried forward by the browser's, so a browser whose
// clock is off still counts right.
(function () {
  "use strict";
  var offset = 0;

  // dur formats like the server (playbooks.FormatDuration): "50m",
  // "1h9m58s", "1h0m5s", "2h"; once a unit is written, zeros in the middle
  // are too.
  function dur(ms) {
    var rest = Math.max(0, Math.round(ms / 1000));
    if (rest === 0) return "0s";
    var units = [[86400, "d"], [3600, "h"], [60, "m"], [1, "s"]], out = "";
    for (var i = 0; i < units.length; i++) {
      var n = Math.floor(rest / units[i][0]);
      if (n > 0 || (out !== "" && rest > 0)) {
        out += n + units[i][1];
        rest -= n * units[i][0];
      }
    }
    return out;
  }

  function clock(ms, tz) {
    var f = new Intl.DateTimeFormat("sv-SE", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
    return f.format(new Date(ms));
  }

  // level is the colour rule of the server's level(): amber from the first
  // RTO alert threshold, red from the last one before the breach.
  function level(pct, amber, red) {
    if (pct >= red) return "red";
    if (pct >= amber) return "amber";
    return "ok";
  }

  function set(el, sel, text) {
    var n = el.querySelector(sel);
    if (n && n.textContent !== text) n.textContent = text;
  }

  function update(el, now) {
    var declared = +el.dataset.declared, rto = +el.dataset.rto;
    var elapsed = now - declared;
    set(el, ".elapsed", dur(elapsed));
    if (rto > 0) {
      var left = declared + rto - now;
      set(el, ".left", left >= 0 ? dur(left) + " left" : "over by " + dur(-left));
      var pct = Math.floor(elapsed * 100 / rto);
      var meter = el.querySelector("meter");
      if (meter) {
        meter.value = Math.min(pct, 100);
        meter.setAttribute("aria-label", "Share of the RTO used: " + pct + "%");
      }
      set(el, ".percent", String(pct));
      var lv = level(pct, +el.dataset.amber, +el.dataset.red);
      el.classList.remove("level-ok", "level-amber", "level-red");
      el.classList.add("level-" + lv);
    }
    if (el.dataset.done !== "true" && el.querySelector(".finish")) {
      var finish = Math.max(now, +el.dataset.stepEnd) + (+el.dataset.rest);
      set(el, ".finish", clock(finish, el.dataset.tz));
    }
  }

  // drbotTick moves every countdown to the time now (ms since the epoch;
  // default the server's clock as of now). Tests call it with a time.
  window.drbotTick = function (now) {
    if (now === undefined) now = Date.now() + offset;
    var els = document.querySelectorAll(".countdown");
    for (var i = 0; i < els.length; i++) update(els[i], now);
  };

  function start() {
    var first = document.querySelector(".countdown");
    // A database played in drbot console: its clock stands still.
    if (!first || document.body.dataset.frozen === "true") return;
    offset = +first.dataset.now - Date.now();
    setInterval(function () { window.drbotTick(); }, 1000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
