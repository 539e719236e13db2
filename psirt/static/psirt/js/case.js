// The case page, enhanced. Without this script every section is on the page, the section links jump to
// them (and CSS :target shows the chosen one alone), and the CVSS calculators score on "Score". With it:
// - the sections are tabs (the URL's #anchor chooses one; a link or redirect to #risk opens "Scoring");
// - each CVSS calculator shows the score as metrics are picked, asked from the server (psirt.lib.cvss, the one
//   implementation: this script never computes a score).
(function () {
  "use strict";

  function setUpTabs() {
    var container = document.querySelector(".case-sections");
    var nav = document.querySelector(".case-tabs");
    if (!container || !nav) return;
    var sections = Array.prototype.slice.call(container.querySelectorAll(":scope > .case-section"));
    var links = Array.prototype.slice.call(nav.querySelectorAll("a[data-tab]"));
    if (!sections.length || !links.length) return;

    nav.querySelector("ul").setAttribute("role", "tablist");
    links.forEach(function (link) {
      link.setAttribute("role", "tab");
      link.setAttribute("aria-controls", link.getAttribute("data-tab"));
      link.id = "tab-" + link.getAttribute("data-tab");
      link.parentNode.setAttribute("role", "presentation");
    });
    sections.forEach(function (section) {
      section.setAttribute("role", "tabpanel");
      section.setAttribute("aria-labelledby", "tab-" + section.id);
    });
    container.classList.add("is-tabbed");

    function show(id) {
      sections.forEach(function (section) {
        section.hidden = section.id !== id;
      });
      links.forEach(function (link) {
        var selected = link.getAttribute("data-tab") === id;
        link.setAttribute("aria-selected", selected ? "true" : "false");
        link.tabIndex = selected ? 0 : -1;
      });
    }

    // The section holding the element an #anchor names (a section itself, or a card inside one).
    function sectionOf(hash) {
      if (!hash || hash.length < 2) return null;
      var target = document.getElementById(decodeURIComponent(hash.slice(1)));
      var section = target && target.closest(".case-sections > .case-section");
      return section ? { id: section.id, target: target, inner: target !== section } : null;
    }

    function follow(hash) {
      var found = sectionOf(hash);
      show(found ? found.id : sections[0].id);
      if (found && found.inner) found.target.scrollIntoView();
    }

    links.forEach(function (link, index) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var id = link.getAttribute("data-tab");
        show(id);
        history.replaceState(null, "", "#" + id);
        // Scrolled down (the strip stuck at the top): start the new tab at its beginning, under the strip.
        if (container.getBoundingClientRect().top < 0) container.scrollIntoView();
      });
      link.addEventListener("keydown", function (event) {
        var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        event.preventDefault();
        var next = links[(index + step + links.length) % links.length];
        next.focus();
        next.click();
      });
    });
    window.addEventListener("hashchange", function () {
      follow(location.hash);
    });
    follow(location.hash);
  }

  function setUpLiveScores() {
    var forms = document.querySelectorAll("form[data-score-url]");
    Array.prototype.forEach.call(forms, function (form) {
      var out = form.querySelector("[data-live]");
      var vector = form.querySelector("input[name$='-vector']");
      var shown = form.querySelector("input[name$='-shown_vector']");
      if (!out || !vector || !shown) return;
      var timer = null;
      var asked = 0;

      function label(key) {
        return out.getAttribute("data-label-" + key) || key;
      }

      function render(data) {
        out.textContent = "";
        out.classList.remove("is-error");
        var parts = [label("base") + " " + data.base];
        if (data.temporal !== undefined) parts.push(label("temporal") + " " + data.temporal);
        if (data.threat !== undefined) parts.push(label("threat") + " " + data.threat);
        parts.push(label("environmental") + " " + data.environmental);
        out.appendChild(document.createTextNode(parts.join(" · ") + " · " + label("severity") + " "));
        var badge = document.createElement("span");
        badge.className = "badge sev-" + String(data.severity).toLowerCase();
        badge.textContent = data.severity_label || data.severity;
        out.appendChild(badge);
        out.hidden = false;
      }

      function fail(message) {
        out.textContent = message;
        out.classList.add("is-error");
        out.hidden = false;
      }

      function ask(fromMetrics) {
        var params = new URLSearchParams();
        new FormData(form).forEach(function (value, key) {
          if (key !== "csrfmiddlewaretoken") params.append(key, value);
        });
        var number = ++asked;
        fetch(form.getAttribute("data-score-url") + "?" + params.toString(), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        })
          .then(function (response) {
            return response.json().then(function (data) {
              return { ok: response.ok, data: data };
            });
          })
          .then(function (result) {
            if (number !== asked) return; // an answer to an older question
            if (!result.ok) {
              fail(result.data.error || "");
              return;
            }
            if (fromMetrics) {
              // The metrics built this vector: show it, and keep "the typed text wins" for real edits only.
              vector.value = result.data.vector;
              shown.value = result.data.vector;
            }
            render(result.data);
          })
          .catch(function () {
            out.hidden = true;
          });
      }

      function later(fromMetrics) {
        clearTimeout(timer);
        timer = setTimeout(function () {
          ask(fromMetrics);
        }, 200);
      }

      form.addEventListener("change", function (event) {
        if (!event.target || event.target.tagName !== "SELECT") return;
        // A metric picked after editing the text: the metrics lead again (the server builds their vector).
        vector.value = shown.value;
        later(true);
      });
      vector.addEventListener("input", function () {
        later(false);
      });
      if (vector.value) ask(false);
    });
  }

  function start() {
    setUpTabs();
    setUpLiveScores();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
