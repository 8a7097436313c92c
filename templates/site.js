// Optional enhancements; every page works without them.
//  - one button that opens or closes every folded run of unchanged lines (<details>);
//  - range permalinks: #L969-L977 highlights lines 969..977 (shift-click a line number to make one);
//  - j / k: next / previous change on diff pages.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button.toggle-all");
  for (var i = 0; i < buttons.length; i++) {
    var button = buttons[i];
    button.hidden = false;
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", function (event) {
      var open = event.currentTarget.getAttribute("aria-pressed") !== "true";
      event.currentTarget.setAttribute("aria-pressed", open ? "true" : "false");
      var folds = document.querySelectorAll("tbody.fold details");
      for (var j = 0; j < folds.length; j++) {
        folds[j].open = open;
      }
    });
  }

  function highlightRange() {
    var old = document.querySelectorAll("tr.hl");
    for (var i = 0; i < old.length; i++) old[i].classList.remove("hl");
    var m = /^#L(\d+)-L?(\d+)$/.exec(location.hash);
    if (!m) return;
    var lo = Math.min(+m[1], +m[2]), hi = Math.max(+m[1], +m[2]), first = null;
    for (var n = lo; n <= hi; n++) {
      var row = document.getElementById("L" + n);
      if (row) { row.classList.add("hl"); first = first || row; }
    }
    if (first) first.scrollIntoView({ block: "center" });
  }
  window.addEventListener("hashchange", highlightRange);
  highlightRange();

  var anchor = null;
  document.addEventListener("click", function (event) {
    var a = event.target.closest && event.target.closest("th.ln a[href^='#L']");
    if (!a) return;
    var n = +a.getAttribute("href").slice(2);
    if (event.shiftKey && anchor !== null) {
      event.preventDefault();
      location.hash = "#L" + Math.min(anchor, n) + "-L" + Math.max(anchor, n);
    } else {
      anchor = n;
    }
  });

  var changes = document.querySelectorAll("table.diff > tbody.block-change");
  if (!changes.length) return;
  var current = -1;
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var tag = event.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (event.key !== "j" && event.key !== "k") return;
    current += event.key === "j" ? 1 : -1;
    current = Math.max(0, Math.min(changes.length - 1, current));
    var target = changes[current];
    target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  });
})();
