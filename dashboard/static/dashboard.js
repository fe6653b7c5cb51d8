// The dashboard's only script: keeps the live part of the page current from its server-sent event stream, and
// turns the buttons and the set-image form into POSTs that carry the action header. No build step.
"use strict";

(function () {
  const key = document.querySelector('meta[name="dashboard-key"]').content;
  const flash = document.getElementById("flash");
  const live = document.getElementById("live");
  const connection = document.getElementById("connection");

  function say(text, failed) {
    flash.textContent = text;
    flash.className = failed ? "flash failed" : "flash ok";
  }

  function follow() {
    const path = document.body.dataset.stream;
    if (!path || !window.EventSource) {
      return;
    }
    const source = new EventSource(path);
    source.onopen = function () { connection.className = "connection open"; };
    source.onerror = function () { connection.className = "connection closed"; };
    source.onmessage = function (event) {
      live.innerHTML = event.data;
      live.dataset.updates = String(Number(live.dataset.updates || "0") + 1);
    };
  }

  async function act(path, params) {
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-Dashboard-Token": key},
        body: JSON.stringify(params || {}),
        credentials: "same-origin",
      });
      const body = await response.json().catch(function () { return {message: response.statusText}; });
      say(body.message || response.statusText, !response.ok);
    } catch (error) {
      say("the request failed: " + error, true);
    }
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-action]");
    if (!button) {
      return;
    }
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      return;
    }
    act(button.dataset.action, button.dataset.params ? JSON.parse(button.dataset.params) : {});
  });

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-action]");
    if (!form) {
      return;
    }
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(form).entries());
    act(form.dataset.action, fields);
  });

  follow();
})();
