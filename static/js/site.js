/*
 * Optional improvements; every page works without this file.
 * - focus the error summary when the form comes back with errors;
 * - check a field when the signer leaves it, with the server's wording;
 * - a "Copy link" button beside the share link, and a "Share…" button where the browser can share natively;
 * - a "Print" button on the flyer;
 * - refresh the signature count now and then, if the site offers a count URL.
 * Loaded with `defer` from a static file, so a strict Content Security Policy holds.
 */
(function () {
  "use strict";

  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (summary && document.activeElement !== summary) {
      summary.focus();
    }
  }

  function errorId(input) {
    return input.id + "_error";
  }

  function setFieldError(form, input, message) {
    var field = input.closest(".field");
    if (!field) return;
    var id = errorId(input);
    var error = document.getElementById(id);
    var describedBy = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (message) {
      if (!error) {
        error = document.createElement("p");
        error.className = "error";
        error.id = id;
        var label = field.querySelector("label");
        var help = field.querySelector(".help");
        var after = help || label;
        after.insertAdjacentElement("afterend", error);
      }
      error.textContent = "";
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = form.dataset.messageError + " ";
      error.appendChild(hidden);
      error.appendChild(document.createTextNode(message));
      field.classList.add("has-error");
      input.setAttribute("aria-invalid", "true");
      if (describedBy.indexOf(id) === -1) describedBy.push(id);
    } else {
      if (error) error.remove();
      field.classList.remove("has-error");
      input.removeAttribute("aria-invalid");
      describedBy = describedBy.filter(function (value) { return value !== id; });
    }
    if (describedBy.length) {
      input.setAttribute("aria-describedby", describedBy.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  function checkField(form, input) {
    var value = input.value.trim();
    if (input.required && !value) {
      setFieldError(form, input, form.dataset.messageRequired);
    } else if (input.type === "email" && value && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
      setFieldError(form, input, form.dataset.messageEmail);
    } else if (input.getAttribute("aria-invalid") === "true" && input.dataset.checked) {
      // Only clear errors this script added or the signer has since fixed.
      setFieldError(form, input, "");
    }
  }

  function enhanceForm(form) {
    var inputs = form.querySelectorAll("input[required], select[required], input[type=email]");
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("blur", function (event) {
        // Do not scold someone who is just tabbing through an untouched form.
        if (!input.dataset.touched) return;
        // Heading for the submit button: a message appearing now would move
        // the button away from under the pointer; the server answers anyway.
        if (event.relatedTarget && event.relatedTarget.type === "submit") return;
        input.dataset.checked = "1";
        checkField(form, input);
      });
      input.addEventListener("input", function () {
        input.dataset.touched = "1";
        if (input.getAttribute("aria-invalid") === "true") {
          input.dataset.checked = "1";
          checkField(form, input);
        }
      });
      input.addEventListener("change", function () { input.dataset.touched = "1"; });
    });
  }

  function enhanceCopyButtons() {
    var buttons = document.querySelectorAll("[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      var input = document.getElementById(button.dataset.copy);
      var status = button.closest(".share-url").querySelector(".copy-status");
      if (!input || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(input.value).then(function () {
          status.textContent = button.dataset.copied;
        }, function () {
          input.select();
        });
      });
    });
  }

  function enhanceShareButtons() {
    // Only where the browser has a share sheet (most phones): elsewhere the plain links do the job.
    if (!navigator.share) return;
    Array.prototype.forEach.call(document.querySelectorAll("[data-share-url]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.share({ title: button.dataset.shareTitle, url: button.dataset.shareUrl }).catch(function () {
          /* dismissed: nothing to do */
        });
      });
    });
  }

  function enhancePrintButtons() {
    if (!window.print) return;
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function openFiltersOnWideScreens() {
    // Folded on phones so the first names are on the first screen; a wide screen has room for them open.
    if (!window.matchMedia || !window.matchMedia("(min-width: 48rem)").matches) return;
    Array.prototype.forEach.call(document.querySelectorAll("details.profession-filter"), function (details) {
      details.open = true;
    });
  }

  function refreshCount() {
    var block = document.querySelector("[data-count-url]");
    if (!block || !window.fetch) return;
    var sentence = block.querySelector("[data-count]");
    var number = block.querySelector("[data-count] strong");
    var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || undefined) : null;
    var percent = block.querySelector("[data-goal-percent]");
    var progress = block.querySelector("progress");
    var format = new Intl.NumberFormat(document.documentElement.lang || undefined);
    var delay = 30000;
    function update() {
      if (document.hidden) return;
      fetch(block.dataset.countUrl, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          var count = [data.count, data.public_count, data.signatures].find(function (value) {
            return typeof value === "number";
          });
          if (typeof count !== "number" || !number) return;
          number.textContent = format.format(count);
          // Replace the words after the number with the right plural for this language.
          var one = plurals ? plurals.select(count) === "one" : count === 1;
          var label = one ? sentence.dataset.labelOne : sentence.dataset.labelOther;
          if (label) {
            while (number.nextSibling) number.nextSibling.remove();
            sentence.appendChild(document.createTextNode(label));
          }
          var goal = data.goal || (progress && Number(progress.dataset.goal));
          if (goal && percent && progress) {
            var value = Math.min(100, Math.round(100 * count / goal));
            percent.textContent = value + "%";
            progress.value = value;
          }
        })
        .catch(function () { /* the count on the page stays as rendered */ });
    }
    window.setInterval(update, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    Array.prototype.forEach.call(document.querySelectorAll("form.sign-form"), enhanceForm);
    enhanceCopyButtons();
    enhanceShareButtons();
    enhancePrintButtons();
    openFiltersOnWideScreens();
    refreshCount();
  });
})();
