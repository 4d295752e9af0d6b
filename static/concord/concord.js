// Concord's only script besides Bootstrap and htmx. No inline scripts: the CSP forbids them.
document.addEventListener("keydown", (event) => {
  // "/" focuses the global search, as in most business apps.
  const target = event.target;
  const typing = target.closest("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
    const search = document.getElementById("global-search");
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  }
});

// Autosubmit filter forms when a select changes.
document.addEventListener("change", (event) => {
  if (event.target.matches("form[data-autosubmit] select")) {
    event.target.form.requestSubmit();
  }
});
