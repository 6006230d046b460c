/* Person and customer pickers: type part of a name, choose from the list; the form submits the
   chosen username or customer id from a hidden input, never the typed text. Served by the app (no CDN). */
(function () {
  "use strict";
  if (window.custinfoPickers) { return; }
  window.custinfoPickers = true;

  function setup(picker) {
    if (picker.dataset.ready) { return; }
    picker.dataset.ready = "1";
    var hidden = picker.querySelector(".picker-value");
    var input = picker.querySelector(".picker-input");
    var menu = picker.querySelector(".picker-menu");
    var source = picker.dataset.source;
    var timer = null;
    var active = -1;
    var chosenLabel = input.value;
    var asked = 0;  // only the answer to the latest question is shown

    function items() { return Array.prototype.slice.call(menu.querySelectorAll(".picker-option")); }

    function close() {
      menu.hidden = true;
      input.setAttribute("aria-expanded", "false");
      active = -1;
    }

    function choose(value, label) {
      hidden.value = value;
      input.value = label;
      chosenLabel = label;
      input.classList.remove("is-invalid");
      close();
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function highlight(index) {
      var list = items();
      if (!list.length) { return; }
      active = (index + list.length) % list.length;
      list.forEach(function (el, i) { el.classList.toggle("active", i === active); });
      list[active].scrollIntoView({ block: "nearest" });
    }

    function show(choices) {
      menu.textContent = "";
      if (!choices.length) {
        var empty = document.createElement("div");
        empty.className = "list-group-item small text-body-secondary picker-empty";
        empty.textContent = picker.dataset.empty || "";
        menu.appendChild(empty);
      }
      choices.forEach(function (choice) {
        var option = document.createElement("button");
        option.type = "button";
        option.className = "list-group-item list-group-item-action picker-option";
        option.setAttribute("role", "option");
        option.dataset.value = choice.value;
        var name = document.createElement("span");
        name.className = "picker-label";
        name.textContent = choice.label;
        var hint = document.createElement("span");
        hint.className = "picker-hint";
        hint.textContent = choice.hint;
        option.appendChild(name);
        option.appendChild(hint);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(choice.value, choice.label); });
        menu.appendChild(option);
      });
      menu.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function search() {
      var text = input.value.trim();
      var url = source + (source.indexOf("?") >= 0 ? "&" : "?") + "q=" + encodeURIComponent(text);
      var ticket = ++asked;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (choices) {
          if (ticket === asked && document.activeElement === input) { show(choices); }
        })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function () {
      if (input.value !== chosenLabel) { hidden.value = ""; }
      if (!input.value.trim()) { chosenLabel = ""; }
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("focus", function () { clearTimeout(timer); timer = setTimeout(search, 50); });
    input.addEventListener("blur", function () {
      setTimeout(close, 150);
      // Typed text that was never chosen is not a value: say so instead of silently submitting nothing.
      if (input.value.trim() && !hidden.value) { input.classList.add("is-invalid"); }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); if (menu.hidden) { search(); } else { highlight(active + 1); } }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
      else if (event.key === "Escape") { close(); }
      else if (event.key === "Enter" && !menu.hidden && active >= 0) {
        event.preventDefault();
        items()[active].click();
      }
    });
  }

  function setupAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".picker"), setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setupAll(document); });
  } else {
    setupAll(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) { setupAll(event.target); });
})();
