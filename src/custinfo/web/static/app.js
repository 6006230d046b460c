/* custinfo UI glue: HTMX requests carry the CSRF token; a lapsed session leads to the sign-in page;
   forms with data-confirm ask first. Loaded as a file because the CSP forbids inline script. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token && event.detail.verb !== "get") {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });

  // The server answers an expired session with a redirect to /login; show that as a whole page,
  // never squeezed into the fragment being swapped.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var url = event.detail.xhr && event.detail.xhr.responseURL;
    if (url && new URL(url).pathname === "/login") {
      event.detail.shouldSwap = false;
      window.location.assign(url);
    }
  });

  // A date the browser cannot read (30 February, a half-typed day) reaches the form as an empty
  // value, so the record would be saved without it: stop, keep what was typed, and say why.
  function badDates(form) {
    var found = [];
    var inputs = form.querySelectorAll ? form.querySelectorAll("input[data-bad-date]") : [];
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      var feedback = document.getElementById(input.id + "-bad-date");
      if (input.validity && input.validity.badInput) {
        found.push(input);
        input.classList.add("is-invalid");
        input.setAttribute("aria-invalid", "true");
        if (!feedback) {
          feedback = document.createElement("div");
          feedback.className = "invalid-feedback d-block";
          feedback.id = input.id + "-bad-date";
          input.setAttribute("aria-describedby", feedback.id);
          input.insertAdjacentElement("afterend", feedback);
        }
        feedback.textContent = input.getAttribute("data-bad-date");
      } else if (feedback) {
        feedback.remove();
        input.classList.remove("is-invalid");
      }
    }
    return found;
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var bad = badDates(form);
      if (bad.length) {
        event.preventDefault();
        event.stopImmediatePropagation();
        bad[0].focus();
        return;
      }
      var question = form && form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  // Keep keyboard focus sensible after a tab pane is swapped: on the first invalid field if any.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.detail.target.querySelector(".is-invalid");
    if (invalid) {
      invalid.focus();
    }
  });

  // A "select all" box ticks or clears every row box it names (bulk actions on the customer list).
  document.addEventListener("change", function (event) {
    var box = event.target;
    var name = box && box.getAttribute && box.getAttribute("data-check-all");
    if (!name || !box.form) {
      return;
    }
    box.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (row) {
      row.checked = box.checked;
    });
  });
})();
