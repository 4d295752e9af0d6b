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

// Ask before a destructive POST: <form data-confirm="Revoke this key?">.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Copy a value shown once (an API key): <button data-copy-target="#api-key">.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copyTarget);
  if (!field) return;
  field.select();
  let copied = false;
  try {
    await navigator.clipboard.writeText(field.value);
    copied = true;
  } catch {
    // Clipboard API needs a secure context; fall back to the selection + legacy command.
    copied = document.execCommand && document.execCommand("copy");
  }
  const label = button.querySelector("span") || button;
  label.textContent = copied ? (button.dataset.copiedLabel || "Copied") : "Press Ctrl+C to copy";
});

// Escape in an inline form (a contact being added or edited) cancels it, like its Cancel link.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const cancel = event.target.closest && event.target.closest("form.contact-form")?.querySelector("[data-cancel]");
  if (cancel) {
    event.preventDefault();
    cancel.click();
  }
});

// Escape hides the exact-time tooltip of a relative time ({{ moment|relative }}) without
// moving focus or the pointer (WCAG 2.2, 1.4.13: dismissible); it shows again on the next
// hover or focus.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  document.querySelectorAll(".relative-time:is(:hover, :focus)").forEach((time) => {
    time.classList.add("tooltip-dismissed");
  });
});
["mouseout", "focusout"].forEach((type) => {
  document.addEventListener(type, (event) => {
    const time = event.target.closest && event.target.closest(".relative-time.tooltip-dismissed");
    if (time && !time.contains(event.relatedTarget)) time.classList.remove("tooltip-dismissed");
  });
});

/* === Lists === */
// Filter bars submit only with their Apply button or Enter: never on blur or on an
// arrow key in a select, so keyboard users can look through the options.

// The column chooser (<details class="column-chooser">) closes like a menu: on Escape,
// returning focus to its button, and on a click elsewhere.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const chooser = event.target.closest && event.target.closest("details.column-chooser[open]");
  if (chooser) {
    chooser.open = false;
    chooser.querySelector("summary").focus();
  }
});
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.column-chooser[open]").forEach((chooser) => {
    if (!chooser.contains(event.target)) chooser.open = false;
  });
});
