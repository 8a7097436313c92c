// Optional: one button that opens or closes every folded run of unchanged lines.
// Everything works without it (the runs are <details> elements).
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
})();
