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

// Autosubmit filter forms when a select is picked with the mouse. Keyboard users
// step through options with the arrow keys (which fire "change" on a closed select
// in Chromium), so for them the form is submitted on Enter or when they leave the field.
const AUTOSUBMIT_SELECT = "form[data-autosubmit] select";
document.addEventListener("keydown", (event) => {
  const select = event.target.closest && event.target.closest(AUTOSUBMIT_SELECT);
  if (!select) return;
  if (event.key === "Enter") {
    event.preventDefault();
    select.form.requestSubmit();
  } else if (event.key !== "Tab") {
    select.dataset.keyboard = "1";
  }
});
document.addEventListener("change", (event) => {
  const select = event.target.closest && event.target.closest(AUTOSUBMIT_SELECT);
  if (!select) return;
  if (select.dataset.keyboard) {
    select.dataset.pending = "1";
  } else {
    select.form.requestSubmit();
  }
});
document.addEventListener("focusout", (event) => {
  const select = event.target.closest && event.target.closest(AUTOSUBMIT_SELECT);
  if (select && select.dataset.pending) {
    delete select.dataset.pending;
    select.form.requestSubmit();
  }
  if (select) delete select.dataset.keyboard;
});
document.addEventListener("mousedown", (event) => {
  const select = event.target.closest && event.target.closest(AUTOSUBMIT_SELECT);
  if (select) delete select.dataset.keyboard;
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
