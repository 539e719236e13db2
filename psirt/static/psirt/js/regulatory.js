// The regulatory desk, enhanced: a "Copy" button next to each field of a stage form copies that field's current
// value to the clipboard, for pasting into the Single Reporting Platform (it has no API). Without this script
// the buttons stay hidden and the values can be selected by hand or downloaded as a text or JSON file.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http (a laptop run): copy through a temporary selection.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try {
        document.execCommand("copy") ? resolve() : reject(new Error("copy refused"));
      } catch (err) {
        reject(err);
      } finally {
        document.body.removeChild(area);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-copy"));
        if (!field) return;
        var done = button.getAttribute("data-copied") || "Copied";
        var label = button.textContent;
        copyText(field.value).then(
          function () {
            button.textContent = done;
            button.classList.add("is-copied");
            window.setTimeout(function () {
              button.textContent = label;
              button.classList.remove("is-copied");
            }, 1500);
          },
          function () {
            field.focus();
            field.select();
          }
        );
      });
    });
  });
})();
