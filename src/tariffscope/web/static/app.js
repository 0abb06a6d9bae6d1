// Small progressive enhancements; every page works without JavaScript.
(function () {
  // Scenarios: "add a change" reveals the next hidden row of the change editor.
  var add = document.getElementById("add-change");
  if (add) {
    add.addEventListener("click", function (ev) {
      ev.preventDefault();
      var hidden = document.querySelector(".changes tr.spare");
      if (hidden) { hidden.classList.remove("spare"); hidden.style.display = ""; }
      if (!document.querySelector(".changes tr.spare")) { add.disabled = true; }
    });
    document.querySelectorAll(".changes tr.spare").forEach(function (r) { r.style.display = "none"; });
  }
  // Forms that run models show that they are working.
  document.querySelectorAll("form[data-busy]").forEach(function (f) {
    f.addEventListener("submit", function () {
      var b = f.querySelector("button[type=submit]");
      if (b) { b.textContent = f.getAttribute("data-busy"); b.disabled = true; }
    });
  });
})();
