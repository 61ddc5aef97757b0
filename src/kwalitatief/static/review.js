// kwal review: keyboard-driven review of coded fragments. No external libraries.
// The server renders every card (all text HTML-escaped there); this script only moves through the
// queue, sends decisions (POST + CSRF token) and swaps the rendered card in.
"use strict";
(function () {
  const queue = JSON.parse(document.getElementById("queue").textContent);
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const blind = document.body.classList.contains("blind");
  const cardBox = document.getElementById("card");
  const position = document.getElementById("position");
  const flash = document.getElementById("flash");
  const help = document.getElementById("help");
  const VALENCES = { "1": "positief", "2": "negatief", "3": "gemengd" };
  const storeKey = "kwal-review-pos:" + location.search;
  let index = Math.min(parseInt(sessionStorage.getItem(storeKey) || "0", 10) || 0, Math.max(queue.length - 1, 0));
  let pendingValence = null;
  let busy = Promise.resolve();
  // after a/r the card moves on to the next coding, unless the reviewer ticks "blijf op kaart" (kept per browser)
  const stay = document.getElementById("stay");
  if (stay) {
    stay.checked = localStorage.getItem("kwal-review-stay") === "1";
    stay.addEventListener("change", function () { localStorage.setItem("kwal-review-stay", stay.checked ? "1" : "0"); });
  }

  function say(text, isError) {
    flash.textContent = text;
    flash.className = "flash" + (isError ? " error" : " ok");
  }

  function current() { return queue[index]; }

  async function load() {
    if (!queue.length) { position.textContent = "0 / 0"; return; }
    const [fid, code] = current();
    const params = new URLSearchParams({ f: fid, c: code || "" });
    const response = await fetch("/card?" + params.toString(), { headers: { "Accept": "text/html" } });
    if (!response.ok) { say("kon fragment niet laden (" + response.status + ")", true); return; }
    cardBox.innerHTML = await response.text();   // server-rendered and escaped
    position.textContent = (index + 1) + " / " + queue.length;
    sessionStorage.setItem(storeKey, String(index));
    cardBox.dataset.loaded = fid + "|" + (code || "");
    bindCard();
  }

  function bindCard() {
    cardBox.querySelectorAll("[data-action]").forEach(function (b) {
      b.addEventListener("click", function () { run(() => decide(b.dataset.action)); });
    });
    cardBox.querySelectorAll("[data-valence]").forEach(function (b) {
      b.addEventListener("click", function () { run(() => decide("change_valence", b.dataset.valence)); });
    });
    cardBox.querySelectorAll("[data-remove]").forEach(function (b) {
      b.addEventListener("click", function () { run(() => send({ code: b.dataset.remove, decision: "reject" })); });
    });
    const add = document.getElementById("add-code");
    if (add) {
      add.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); run(() => addCode(add.value)); }
        if (e.key === "Escape") { add.value = ""; add.blur(); }
        e.stopPropagation();
      });
    }
    const memo = document.getElementById("memo");
    if (memo) {
      memo.addEventListener("keydown", function (e) {
        if (e.key === "Escape") { memo.blur(); }
        e.stopPropagation();
      });
    }
  }

  function memoText() {
    const memo = document.getElementById("memo");
    return memo ? memo.value.trim() : "";
  }

  async function send(body, advance) {
    const [fid, code] = current();
    const payload = Object.assign({ fragment_id: fid, code: code, memo: memoText() || null }, body);
    const response = await fetch("/api/decide", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(payload),
    });
    const result = await response.json().catch(() => ({ ok: false, error: "onbekend antwoord" }));
    if (!response.ok || !result.ok) { say("niet bewaard: " + (result.error || response.status), true); return false; }
    say("bewaard: " + (payload.code || "") + " " + (result.status_label || result.status || ""), false);
    if (advance && index < queue.length - 1) index += 1;
    else if (advance) say("bewaard; dit was de laatste codering van de selectie", false);
    await load();
    return true;
  }

  function decide(action, valence) {
    if (!queue.length) return Promise.resolve();
    if (blind) {
      if (action === "done") return send({ code: null, decision: "done" });
      return Promise.resolve();
    }
    const card = cardBox.querySelector(".card");
    if (action === "change_valence" && card && card.dataset.valence !== "true") {
      say("deze code heeft geen waardering", true);
      return Promise.resolve();
    }
    const advance = (action === "accept" || action === "reject") && !(stay && stay.checked);
    return send({ decision: action, valence: valence || null }, advance);
  }

  function addCode(raw) {
    const parts = (raw || "").trim().split(/\s+/);
    const code = parts[0];
    if (!code) return Promise.resolve();
    let valence = parts[1] || null;
    const option = document.querySelector('#code-list option[value="' + CSS.escape(code) + '"]');
    if (!valence && option && option.dataset.valence === "true") valence = pendingValence;
    pendingValence = null;
    return send({ code: code, decision: "add", valence: valence });
  }

  function run(action) {
    busy = busy.then(action).catch(function (err) { say(String(err), true); });
    return busy;
  }

  function move(step) {
    if (!queue.length) return;
    const next = Math.max(0, Math.min(queue.length - 1, index + step));
    if (next === index) { say(step > 0 ? "laatste fragment van de selectie" : "eerste fragment", false); return; }
    index = next;
    return load();
  }

  async function nextUnreviewed() {
    const response = await fetch("/api/statuses");
    if (!response.ok) { say("kon de status niet laden", true); return; }
    const statuses = await response.json();
    for (let i = index + 1; i < queue.length; i++) {
      const [fid, code] = queue[i];
      if ((statuses[fid + "|" + (code || "")] || "unreviewed") === "unreviewed") { index = i; return load(); }
    }
    say("geen niet-beoordeelde fragmenten meer na dit fragment", false);
  }

  function toggleHelp(show) {
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  document.getElementById("help-button").addEventListener("click", () => toggleHelp());
  document.getElementById("help-close").addEventListener("click", () => toggleHelp(false));

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (e.key === "Escape") { toggleHelp(false); return; }
    if (e.key === "?") { toggleHelp(); e.preventDefault(); return; }
    if (!help.hidden) return;
    switch (e.key) {
      case "j": case "ArrowDown": e.preventDefault(); run(() => move(1)); break;
      case "k": case "ArrowUp": e.preventDefault(); run(() => move(-1)); break;
      case "n": run(nextUnreviewed); break;
      case "a": run(() => decide(blind ? "done" : "accept")); break;
      case "r": if (!blind) run(() => decide("reject")); break;
      case "1": case "2": case "3":
        if (blind) { pendingValence = VALENCES[e.key]; say("waardering voor de volgende code met waardering: " + pendingValence, false); }
        else run(() => decide("change_valence", VALENCES[e.key]));
        break;
      case "c": { const add = document.getElementById("add-code"); if (add) { e.preventDefault(); add.focus(); } break; }
      case "m": { const memo = document.getElementById("memo"); if (memo) { e.preventDefault(); memo.focus(); } break; }
      default: break;
    }
  });

  run(load);
})();
