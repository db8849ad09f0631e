// Small progressive enhancements; every page works without them.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: data-copy names the input whose value is copied.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const input = document.getElementById(button.dataset.copy);
    const status = document.getElementById("copy-status");
    if (!input || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(input.value);
        button.textContent = "Copied";
        if (status) status.textContent = "Copied to the clipboard. Store it somewhere safe.";
      } catch {
        input.select();
        if (status) status.textContent = "Copy failed: the secret is selected, press Ctrl+C.";
      }
    });
  }

  // Read-only secrets select themselves, ready to copy by hand.
  for (const input of document.querySelectorAll("input[data-select-on-focus]")) {
    input.addEventListener("focus", () => input.select());
  }

  // Forms with data-confirm ask first (for revocations).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // The alert queue adds new alerts live: the server sends each as a rendered
  // row over server-sent events.
  const rows = document.querySelector("tbody[data-stream]");
  if (rows && window.EventSource) {
    const status = document.getElementById("live-status");
    const source = new EventSource(rows.dataset.stream);
    source.addEventListener("alert", (event) => {
      const tmp = document.createElement("tbody");
      tmp.innerHTML = event.data; // server-rendered, escaped by html/template
      const row = tmp.querySelector("tr");
      if (!row || rows.querySelector(`tr[data-alert-id="${CSS.escape(row.dataset.alertId)}"]`)) return;
      row.classList.add("fresh");
      rows.prepend(row);
      document.getElementById("no-alerts")?.remove();
    });
    source.addEventListener("open", () => {
      rows.dataset.live = "open";
      if (status) status.textContent = "Live: new alerts appear here as they arrive.";
    });
    source.addEventListener("error", () => {
      rows.dataset.live = "reconnecting";
      if (status) status.textContent = "Live updates paused; reconnecting…";
    });
  }
});
