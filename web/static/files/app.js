// Homeward's own script. Every page works without it; it only adds what a
// plain link cannot do.
(function () {
  "use strict";

  // Leave quickly. The link works without script (it opens /leave); with
  // script the screen is blanked at once, before the neutral page arrives
  // over a slow connection, and the page is replaced in the history, so
  // Back does not return to it. Pressing Escape twice does the same.
  function leave(href) {
    document.documentElement.hidden = true;
    document.title = "";
    window.location.replace(href);
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-leave]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    leave(link.href);
  });
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var now = Date.now();
    if (now - lastEscape < 1000) {
      var link = document.querySelector("a[data-leave]");
      if (link) {
        leave(link.href);
      }
    }
    lastEscape = now;
  });
})();
