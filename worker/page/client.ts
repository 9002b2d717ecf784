/**
 * The status page's only script (inline, optional): one live tail socket per monitor card
 * (GET /logs/stream, subprotocol fillwatch.v1, the session cookie authenticates it). Each event is
 * listed under "Live"; shortly after the last of a burst of events the page is re-read and that
 * card's body swapped. The "Run a check" button posts with the session's CSRF token. Relative
 * times ("3 min ago") are kept current every 15 s. Without JavaScript, a meta refresh.
 */
import { AGO_JS } from "./time.ts";

export const CLIENT_JS = `
(function () {
  ${AGO_JS}
  function relativeTimes() {
    var now = Date.now();
    document.querySelectorAll("time[data-ts]").forEach(function (t) { t.textContent = ago(Number(t.getAttribute("data-ts")), now); });
  }
  setInterval(relativeTimes, 15000);
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  function text(el, s) { el.textContent = s; }
  function refreshBody(id) {
    fetch(location.pathname + location.search, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      // The fresh page's style and script carry another request's CSP nonce: only its body is needed.
      var body = html.replace(/<style[\\s\\S]*?<\\/style>/g, "").replace(/<script[\\s\\S]*?<\\/script>/g, "");
      var doc = new DOMParser().parseFromString(body, "text/html");
      var fresh = doc.getElementById(id), old = document.getElementById(id);
      if (fresh && old) { old.replaceWith(fresh); relativeTimes(); }
    }).catch(function () {});
  }
  function tail(section) {
    var monitor = section.getAttribute("data-monitor");
    var bodyId = section.getAttribute("data-body");
    var list = section.querySelector(".live ol");
    var state = section.querySelector("[data-live-state]");
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    var url = proto + "//" + location.host + "/logs/stream?monitor=" + encodeURIComponent(monitor);
    var ws, timer, pending, retry = 1000;
    function open() {
      ws = new WebSocket(url, ["fillwatch.v1"]);
      ws.onopen = function () { retry = 1000; text(state, "● connected"); section.setAttribute("data-live", "open");
        timer = setInterval(function () { try { ws.send("ping"); } catch (e) {} }, 30000); };
      ws.onmessage = function (m) {
        var e; try { e = JSON.parse(m.data); } catch (x) { return; }
        if (e.type !== "event") return;
        var li = document.createElement("li");
        li.className = e.level;
        li.setAttribute("data-event", e.event);
        li.title = JSON.stringify(e.data);
        text(li, e.at_iso.slice(11, 19) + " " + e.level + " " + e.event + (e.check_id ? " [" + e.check_id + "]" : ""));
        list.insertBefore(li, list.firstChild);
        while (list.children.length > 40) list.removeChild(list.lastChild);
        clearTimeout(pending); pending = setTimeout(function () { refreshBody(bodyId); }, 400);
      };
      ws.onclose = function (ev) {
        clearInterval(timer); section.setAttribute("data-live", "closed");
        if (ev.code === 4001) { text(state, "session expired: sign in again"); return; }
        text(state, "reconnecting…"); setTimeout(open, retry); retry = Math.min(retry * 2, 30000);
      };
    }
    open();
  }
  document.querySelectorAll("section.monitor[data-monitor]").forEach(function (s) {
    var live = s.querySelector(".live"); if (live) live.hidden = false;
    tail(s);
  });
  document.querySelectorAll("button[data-run]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var out = b.parentNode.querySelector("[data-run-result]");
      b.disabled = true;
      fetch("/checks/run?monitor=" + encodeURIComponent(b.getAttribute("data-run")), {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
      }).then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); }).then(function (x) {
        text(out, x[0] === 202 ? "started " + x[1].check_id : (x[1].error && x[1].error.message) || "HTTP " + x[0]);
      }).catch(function (e) { text(out, String(e)); }).finally(function () { b.disabled = false; });
    });
  });
})();
`;
