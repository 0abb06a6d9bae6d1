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
  // Duty page: the product search lists matches as you type (the GET form lists them without JavaScript);
  // picking one fills the HTS code field instead of leaving the page.
  var q = document.getElementById("product-q"), out = document.getElementById("product-results");
  var hts = document.querySelector("#duty-form input[name=hts]");
  function pick(ev) {
    var a = ev.target.closest("a.pick");
    if (!a || !hts) { return; }
    ev.preventDefault();
    hts.value = a.getAttribute("data-hts");
    hts.focus();
  }
  if (q && out && hts) {
    out.addEventListener("click", pick);
    var timer = null, asked = "";
    q.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = q.value.trim();
        if (text.length < 2 || text === asked) { return; }
        asked = text;
        fetch("/api/products?limit=8&q=" + encodeURIComponent(text)).then(function (r) { return r.json(); }).then(function (body) {
          if (text !== asked) { return; }
          out.textContent = "";
          if (body.error) { var p = document.createElement("p"); p.className = "note"; p.textContent = body.error; out.appendChild(p); return; }
          var ul = document.createElement("ul"); ul.className = "products";
          body.matches.forEach(function (m) {
            var li = document.createElement("li"), a = document.createElement("a"), span = document.createElement("span");
            a.className = "pick"; a.href = "#"; a.setAttribute("data-hts", m.dotted); a.textContent = m.dotted;
            span.className = "path"; span.textContent = m.path_text;
            li.appendChild(a); li.appendChild(document.createTextNode(" " + m.description)); li.appendChild(document.createElement("br")); li.appendChild(span);
            ul.appendChild(li);
          });
          if (!body.matches.length) { var none = document.createElement("p"); none.className = "note"; none.textContent = "No HTS line matches."; out.appendChild(none); }
          else { out.appendChild(ul); }
        }).catch(function () { /* the Search button still works */ });
      }, 250);
    });
  }
  // Forms that run models show that they are working.
  document.querySelectorAll("form[data-busy]").forEach(function (f) {
    f.addEventListener("submit", function () {
      var b = f.querySelector("button[type=submit]");
      if (b) { b.textContent = f.getAttribute("data-busy"); b.disabled = true; }
    });
  });
})();
