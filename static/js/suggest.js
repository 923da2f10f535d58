// Suggestions while typing: an ARIA combobox over /api/suggest. Without it, search as before.
(function () {
  "use strict";
  var KEEP = ["lang", "embed", "theme"], here = new URLSearchParams(location.search);
  var pageLang = document.documentElement.lang, words = pageLang === "en"
    ? ["suggestion", "suggestions", "No suggestions"] : ["forslag", "forslag", "Ingen forslag"];
  function link(s) {
    var args = new URLSearchParams({doc: s.slug});
    KEEP.forEach(function (k) { if (here.get(k)) args.set(k, here.get(k)); });
    return "/docs.php?" + args + (s.anchor ? "#" + encodeURIComponent(s.anchor) : "");
  }
  function enhance(input, n) {
    var list = document.createElement("ul"), status = document.createElement("p");
    var items = [], active = -1, timer = 0, asked = 0;
    list.id = "forslag-" + n; list.className = "suggestions"; list.setAttribute("role", "listbox");
    list.hidden = true;
    status.className = "visually-hidden"; status.setAttribute("role", "status");
    var box = input.parentNode;
    box.style.position = "relative"; box.appendChild(list); box.appendChild(status);
    input.setAttribute("role", "combobox"); input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false"); input.setAttribute("aria-controls", list.id);
    function close() {
      list.hidden = true; active = -1; input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function mark(i) {
      items.forEach(function (li, j) { li.setAttribute("aria-selected", String(i === j)); });
      active = i;
      if (i < 0) input.removeAttribute("aria-activedescendant");
      else input.setAttribute("aria-activedescendant", items[i].id);
    }
    function show(found) {
      var chosen = active >= 0 && items[active].dataset.href; // kept when a list comes late
      list.textContent = ""; items = [];
      found.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i; li.setAttribute("role", "option");
        li.dataset.href = link(s); li.textContent = s.heading ? s.title + " › " + s.heading : s.title;
        if (s.lang !== pageLang) li.lang = s.lang;
        list.appendChild(li); items.push(li);
      });
      var n = found.length;
      list.hidden = !n; input.setAttribute("aria-expanded", String(!!n));
      status.textContent = n ? n + " " + words[n === 1 ? 0 : 1] : words[2];
      mark(items.findIndex(function (li) { return li.dataset.href === chosen; }));
    }
    function ask() {
      var q = input.value, mine = ++asked;
      if (!q.trim()) { close(); return; }
      fetch("/api/suggest?" + new URLSearchParams({q: q, lang: pageLang}),
        {headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : {suggestions: []}; })
        .then(function (d) { if (mine === asked && document.activeElement === input) show(d.suggestions); })
        .catch(close);
    }
    input.addEventListener("input", function () { mark(-1); clearTimeout(timer); timer = setTimeout(ask, 120); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (list.hidden) return;
        e.preventDefault();
        var next = active + (e.key === "ArrowDown" ? 1 : -1);
        mark(next >= items.length ? -1 : next < -1 ? items.length - 1 : next);
      } else if (e.key === "Enter" && active >= 0) {
        e.preventDefault(); location.href = items[active].dataset.href;
      } else if (e.key === "Escape" && !list.hidden) {
        e.preventDefault(); close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 200); });
    list.addEventListener("mousedown", function (e) { e.preventDefault(); });
    list.addEventListener("click", function (e) {
      var li = e.target.closest("[role=option]");
      if (li) location.href = li.dataset.href;
    });
  }
  document.querySelectorAll("form.search input[name=q]").forEach(enhance);
})();
