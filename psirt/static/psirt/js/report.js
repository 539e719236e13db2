/* Report form enhancements. The form works fully without this file; with it:
   - the firmware list shows only the chosen product's versions,
   - the "product not in the list" field shows only when "Other" is chosen,
   - files over the size limits are flagged before a long upload starts. */
(function () {
  "use strict";
  var form = document.querySelector("form.report-form");
  if (!form) { return; }
  var product = form.querySelector("#id_product");
  var release = form.querySelector("#id_release");
  var other = form.querySelector("#id_product_other");
  var files = form.querySelector("#id_attachments");
  var warning = document.getElementById("file-size-warning");
  var map = {};
  Array.prototype.forEach.call(document.querySelectorAll("#release-map [data-release]"), function (el) {
    map[el.getAttribute("data-release")] = el.getAttribute("data-product");
  });

  function rowOf(el) { return el ? el.closest(".form-row") : null; }

  function syncProduct() {
    if (!product) { return; }
    var slug = product.value;
    if (other && rowOf(other)) { rowOf(other).hidden = slug !== "other" && !other.value; }
    if (!release) { return; }
    var any = false;
    Array.prototype.forEach.call(release.querySelectorAll("optgroup"), function (group) {
      var show = false;
      Array.prototype.forEach.call(group.querySelectorAll("option"), function (opt) {
        var match = map[opt.value] === slug;
        opt.hidden = !match;
        opt.disabled = !match;
        if (match) { show = true; }
      });
      group.hidden = !show;
      if (show) { any = true; }
    });
    var selected = release.options[release.selectedIndex];
    if (selected && selected.disabled) { release.value = ""; }
    if (rowOf(release)) { rowOf(release).hidden = !any; }
  }

  function checkFiles() {
    if (!files || !warning) { return; }
    var maxFile = parseInt(form.getAttribute("data-max-file-mb"), 10) * 1024 * 1024;
    var maxTotal = parseInt(form.getAttribute("data-max-total-mb"), 10) * 1024 * 1024;
    var total = 0;
    var big = [];
    Array.prototype.forEach.call(files.files || [], function (f) {
      total += f.size;
      if (f.size > maxFile) { big.push(f.name); }
    });
    var text = "";
    if (big.length) { text = form.getAttribute("data-msg-file") || "Too large: "; text += big.join(", "); }
    else if (total > maxTotal) { text = form.getAttribute("data-msg-total") || "The files are too large together."; }
    warning.textContent = text;
    files.setCustomValidity ? files.setCustomValidity(text) : null;
  }

  if (product) { product.addEventListener("change", syncProduct); syncProduct(); }
  if (files) { files.addEventListener("change", checkFiles); }
}());
