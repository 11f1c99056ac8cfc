// Watchfloor pages: CSRF header on htmx requests, keyboard triage, dialogs. Loaded as a file because the
// Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  document.addEventListener("htmx:configRequest", (e) => { e.detail.headers["X-CSRF-Token"] = csrf(); });

  function say(text) {
    const box = document.createElement("div");
    box.className = "flash flash-error";
    box.setAttribute("role", "alert");
    box.textContent = text;
    document.querySelector("main").prepend(box);
    setTimeout(() => box.remove(), 8000);
  }

  document.addEventListener("htmx:responseError", (e) => {
    let detail = e.detail.xhr.statusText;
    try { detail = JSON.parse(e.detail.xhr.responseText).detail || detail; } catch (_) { /* not JSON */ }
    say(`${e.detail.xhr.status}: ${detail}`);
  });
  document.addEventListener("htmx:sendError", () => say("the server did not answer; is it running?"));

  // ---- inbox rows: focus, selection, keyboard actions ---------------------------------------------
  let focusedId = null;
  let focusedIndex = 0;
  const rows = () => Array.from(document.querySelectorAll("tr.alert-row"));

  function focusRow(row) {
    if (!row) return;
    document.querySelectorAll("tr.alert-row.focused").forEach((r) => r.classList.remove("focused"));
    row.classList.add("focused");
    focusedId = row.dataset.id;
    focusedIndex = rows().indexOf(row);
    row.scrollIntoView({ block: "nearest" });
  }

  function focused() {
    return rows().find((r) => r.dataset.id === focusedId) || null;
  }

  function move(delta) {
    const all = rows();
    if (!all.length) return;
    const current = focused();
    const i = current ? all.indexOf(current) + delta : 0;
    focusRow(all[Math.max(0, Math.min(all.length - 1, i))]);
  }

  function ensureSelection() {
    const checked = document.querySelectorAll('input[name="ids"]:checked');
    if (checked.length) return true;
    const row = focused();
    if (!row) return false;
    row.querySelector('input[name="ids"]').checked = true;
    return true;
  }

  function bulk(key) {
    const button = document.querySelector(`.bulkbar [data-key="${key}"]`);
    if (!button || !ensureSelection()) return;
    button.click();
  }

  function panelAction(key) {
    const panel = document.getElementById("panel");
    if (!panel) return false;
    if (key === "d") {
      const reason = panel.querySelector('.dismiss textarea[name="reason"]');
      if (reason) reason.focus();
      return true;
    }
    const button = panel.querySelector(`.actions button[data-key="${key}"]`);
    if (button) button.click();
    return true;
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    const search = document.getElementById("q");
    switch (e.key) {
      case "/":
        if (search) { e.preventDefault(); search.focus(); search.select(); }
        return;
      case "j": move(1); return;
      case "k": move(-1); return;
      case "o":
      case "Enter": {
        const row = focused();
        if (row) { e.preventDefault(); window.location.assign(row.dataset.href); }
        return;
      }
      case "x": {
        const row = focused();
        if (row) { const box = row.querySelector('input[name="ids"]'); box.checked = !box.checked; }
        return;
      }
      case "a":
      case "e":
      case "r":
      case "d":
        if (panelAction(e.key)) { e.preventDefault(); return; }
        if (e.key === "d") {
          if (ensureSelection()) { e.preventDefault(); openDialog("dismiss-dialog"); }
          return;
        }
        bulk(e.key);
        return;
      default:
    }
  });

  document.addEventListener("click", (e) => {
    const row = e.target.closest("tr.alert-row");
    if (row && !e.target.closest("a, input, button")) focusRow(row);
    const opener = e.target.closest("[data-open]");
    if (opener) { if (ensureSelection()) openDialog(opener.dataset.open); }
    const closer = e.target.closest("[data-close]");
    if (closer) document.getElementById(closer.dataset.close).close();
  });

  document.addEventListener("change", (e) => {
    if (e.target.id === "select-all") {
      document.querySelectorAll('#rows input[name="ids"], .arrived input[name="ids"]')
        .forEach((box) => { box.checked = e.target.checked; });
    }
    if (e.target.id === "silence-kind") {
      document.querySelector('.silence-form input[name="target"]').setAttribute("list", `targets-${e.target.value}`);
    }
  });

  function openDialog(id) {
    const dialog = document.getElementById(id);
    if (!dialog) return;
    dialog.showModal();
    const field = dialog.querySelector("textarea, input");
    if (field) field.focus();
  }

  // After the list is re-rendered, keep the officer's place: the same alert, or the row now at its index.
  document.addEventListener("htmx:afterSettle", (e) => {
    if (e.detail.target && e.detail.target.id === "results") {
      const all = rows();
      focusRow(focused() || all[Math.min(focusedIndex, all.length - 1)]);
    }
  });
})();
