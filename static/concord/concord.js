// Concord's only script besides Bootstrap and htmx. No inline scripts: the CSP forbids them.

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

/* === Forms and record page === */

// Error summary (GOV.UK's pattern, core.forms): it takes the focus when the page or an
// htmx fragment brings it, so a screen reader reads it and Tab goes on to its links.
function focusErrorSummary() {
  const summary = document.querySelector("[data-error-summary]:not([data-focused])");
  if (!summary) return;
  summary.dataset.focused = "1";
  summary.focus();
}

// A link of the summary focuses its field and scrolls its label into view (the
// browser's own jump would show the input under the top bar, without its label).
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
  if (!link) return;
  const field = document.getElementById(decodeURIComponent(link.hash.slice(1)));
  if (!field) return;
  event.preventDefault();
  const label = (field.id && document.querySelector(`label[for="${CSS.escape(field.id)}"]`))
    || (field.closest("fieldset") && field.closest("fieldset").querySelector("legend"));
  (label || field).scrollIntoView({ block: "start" });
  field.focus({ preventScroll: true });
});

// An inline form (<form data-return-focus="#add-contact">) cancelled with its Cancel
// link or Escape gives the focus back to the button that opened it, once htmx has
// put the panel back. A saved form's panel focuses its notice itself (autofocus).
let returnFocusTo = null;
document.addEventListener("click", (event) => {
  const cancel = event.target.closest && event.target.closest("[data-return-focus] [data-cancel]");
  if (cancel) returnFocusTo = cancel.closest("[data-return-focus]").dataset.returnFocus;
});
document.addEventListener("htmx:afterSettle", () => {
  if (returnFocusTo) {
    const opener = document.querySelector(returnFocusTo);
    returnFocusTo = null;
    if (opener) opener.focus();
  }
  focusErrorSummary();
});

// WCAG 2.2 "focus not obscured": concord.css's scroll-padding keeps anchor jumps and
// scrollIntoView clear of the sticky top bar and save bar, but Chromium ignores it when
// Tab moves the focus onto a field it counts as visible already, half under the save bar.
// So a field the focus lands on under either bar is scrolled clear of it.
const FOCUS_MARGIN = 12;
function keepFocusClear(element) {
  const saveBar = document.querySelector(".form-actions");
  const topBar = document.querySelector(".sticky-top");
  const rect = element.getBoundingClientRect();
  if (saveBar && !saveBar.contains(element)) {
    const bar = saveBar.getBoundingClientRect();
    if (rect.bottom > bar.top - FOCUS_MARGIN && rect.top < bar.bottom) {
      window.scrollBy({ top: rect.bottom - bar.top + FOCUS_MARGIN, behavior: "instant" });
      return;
    }
  }
  if (topBar && !topBar.contains(element)) {
    const barBottom = topBar.getBoundingClientRect().bottom;
    if (rect.top < barBottom + FOCUS_MARGIN && rect.bottom > 0) window.scrollBy({ top: rect.top - barBottom - FOCUS_MARGIN, behavior: "instant" });
  }
}
document.addEventListener("focusin", (event) => {
  // After the browser's own scrolling to the newly focused element, which follows the event.
  if (event.target instanceof Element) requestAnimationFrame(() => keepFocusClear(event.target));
});

// Searchable lists: <select data-searchable> (core.forms.SearchableSelect) becomes an
// ARIA 1.2 combobox: a text input that filters a listbox by name or code as one types,
// with the arrow keys, Enter and Escape, and a polite count of the matches. The select
// stays in the form, hidden, and holds the value sent; without JavaScript it is all there is.
const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();

function enhanceSearchable(select) {
  if (select.dataset.enhanced || select.disabled || select.multiple || !select.id) return;
  select.dataset.enhanced = "1";
  const id = select.id;
  const label = document.querySelector(`label[for="${CSS.escape(id)}"]`);
  const options = Array.from(select.options)
    .filter((option) => option.value !== "")
    .map((option) => ({ value: option.value, label: option.text.trim(), key: fold(`${option.text} ${option.value}`) }));
  const blank = Array.from(select.options).find((option) => option.value === "");
  const allowsBlank = blank !== undefined;
  const hadFocus = document.activeElement === select;

  const input = document.createElement("input");
  input.type = "text";
  input.className = "form-select combobox-input";
  if (select.classList.contains("is-invalid")) input.classList.add("is-invalid");
  Object.entries({
    role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": `${id}_listbox`,
    autocomplete: "off", spellcheck: "false",
  }).forEach(([name, value]) => input.setAttribute(name, value));
  ["aria-describedby", "aria-invalid", "required"].forEach((name) => {
    if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
  });
  const list = document.createElement("ul");
  list.id = `${id}_listbox`;
  list.className = "combobox-list";
  list.setAttribute("role", "listbox");
  if (label) list.setAttribute("aria-label", label.textContent.replace("*", "").trim());
  list.hidden = true;
  const status = document.createElement("div");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  // The input takes the select's id, so its label, the error summary's link and
  // aria-describedby all lead to what people type into.
  select.id = `${id}_select`;
  input.id = id;
  select.hidden = true;
  select.tabIndex = -1;
  const box = document.createElement("div");
  box.className = "combobox";
  box.append(input, list, status);
  select.after(box);

  let matches = [];
  let active = -1;
  let announce = null;
  const chosenLabel = () => {
    const option = select.selectedOptions[0];
    return option && option.value ? option.text.trim() : "";
  };
  input.value = chosenLabel();
  // A blank choice that means something ("Automatic — from your browser", "Company
  // default") shows as the placeholder while nothing else is chosen; Django's "---------" does not.
  if (blank && !/^-+$/.test(blank.text.trim())) input.placeholder = blank.text.trim();

  function render() {
    list.replaceChildren(...matches.map((match, index) => {
      const item = document.createElement("li");
      item.id = `${id}_option_${index}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(index === active));
      item.dataset.index = index;
      item.textContent = match.label;
      return item;
    }));
    if (active >= 0) {
      input.setAttribute("aria-activedescendant", `${id}_option_${active}`);
      list.children[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }
  function open(text) {
    const query = fold(text);
    matches = options.filter((option) => option.key.includes(query));
    // A code typed exactly ("de", "eur") puts its option first.
    matches.sort((a, b) => (fold(b.value) === query) - (fold(a.value) === query));
    active = -1;
    render();
    list.hidden = matches.length === 0;
    input.setAttribute("aria-expanded", String(!list.hidden));
    clearTimeout(announce);
    announce = setTimeout(() => {
      status.textContent = matches.length === 0 ? "No results"
        : `${matches.length} result${matches.length === 1 ? "" : "s"} available`;
    }, 400);
  }
  function close() {
    list.hidden = true;
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  function choose(option) {
    const changed = select.value !== option.value;
    select.value = option.value;
    input.value = option.label;
    close();
    if (changed) select.dispatchEvent(new Event("change", { bubbles: true }));
  }
  // What was typed becomes the value when it names an option (by name or code),
  // nothing when it was cleared (where the list allows it); otherwise the choice stays.
  function commit() {
    const text = fold(input.value);
    const named = options.find((option) => fold(option.label) === text || fold(option.value) === text);
    if (named) {
      choose(named);
    } else if (!text && allowsBlank) {
      if (select.value !== "") {
        select.value = "";
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      close();
    } else {
      input.value = chosenLabel();
      close();
    }
  }
  function move(step) {
    if (list.hidden) open(input.value === chosenLabel() ? "" : input.value);
    if (!matches.length) return;
    active = active < 0 ? (step > 0 ? 0 : matches.length - 1) : (active + step + matches.length) % matches.length;
    render();
  }

  input.addEventListener("input", () => open(input.value));
  input.addEventListener("click", () => (list.hidden ? open("") : close()));
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      if (!list.hidden && (active >= 0 || matches.length === 1)) {
        event.preventDefault(); // choosing, not submitting
        choose(matches[Math.max(active, 0)]);
      } else {
        commit(); // the form is submitted with what was typed
      }
    } else if (event.key === "Escape") {
      if (!list.hidden || input.value !== chosenLabel()) {
        event.preventDefault();
        event.stopPropagation(); // the list closes; an inline form around it stays open
        input.value = chosenLabel();
        close();
      }
    }
  });
  input.addEventListener("blur", commit);
  list.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus in the input
  list.addEventListener("click", (event) => {
    const item = event.target.closest("[role=option]");
    if (item) choose(matches[Number(item.dataset.index)]);
  });
  if (hadFocus) input.focus();
}

function enhanceForms(root) {
  root.querySelectorAll("select[data-searchable]").forEach(enhanceSearchable);
}
document.addEventListener("DOMContentLoaded", () => {
  enhanceForms(document);
  focusErrorSummary();
});
document.addEventListener("htmx:load", (event) => enhanceForms(event.detail.elt));

/* === Shell === */
// "/" focuses the global search, as in most business apps. On a phone the field sits
// behind the search button (a collapse): it is opened first, then focused.
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  if (event.key !== "/" || typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const search = document.getElementById("global-search");
  if (!search) return;
  event.preventDefault();
  const form = search.closest(".collapse");
  if (form && !search.offsetParent && window.bootstrap) {
    bootstrap.Collapse.getOrCreateInstance(form, { toggle: false }).show();  // focused once shown, below
  } else {
    search.focus();
    search.select();
  }
});

// The phone's search row: focus goes into the field when it opens; Escape closes it
// and hands focus back to the button that opened it.
document.addEventListener("shown.bs.collapse", (event) => {
  const search = event.target.querySelector && event.target.querySelector("#global-search");
  if (search) search.focus();
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.target.id !== "global-search") return;
  const form = event.target.closest(".collapse.show");
  const button = document.getElementById("search-button");
  if (form && button && button.offsetParent && window.bootstrap) {
    bootstrap.Collapse.getOrCreateInstance(form, { toggle: false }).hide();
    button.focus();
  }
});

/* === Feed: panel, My feed, person pages === */
// The composer and comment boxes answer a refused post with 400 and the form again (its
// errors next to the fields, what was typed kept): htmx swaps those too.
document.addEventListener("htmx:beforeSwap", (event) => {
  // htmx carries the style attribute of a swapped field over to its successor (same id):
  // an empty one (Chromium leaves style="" on filled fields) is an inline style the CSP refuses.
  if (event.detail.elt.closest && event.detail.elt.closest("[data-feed]")) {
    document.querySelectorAll("[data-feed] [style='']").forEach((element) => element.removeAttribute("style"));
  }
  // The element that sent the request (detail.elt is the swap's target, which may lie outside the form).
  const sender = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
  if (event.detail.xhr.status === 400 && sender.closest && sender.closest("[data-feed-form]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// @mention suggestions: the textarea asks for people (htmx, debounced) with the text up
// to the cursor; the listbox it controls is driven from the textarea with the arrow keys,
// Enter or Tab to choose and Escape to close, or with a click.
document.addEventListener("htmx:configRequest", (event) => {
  const box = event.detail.elt;
  if (box.matches && box.matches("textarea[data-mention]")) {
    event.detail.parameters.body = box.value.slice(0, box.selectionStart);
  }
});

function mentionList(box) {
  const list = document.getElementById(box.getAttribute("aria-controls"));
  return list && !list.hidden && list.querySelector("[role=option]") ? list : null;
}
function mentionOptions(list) {
  return Array.from(list.querySelectorAll("[role=option]"));
}
function closeMentions(box) {
  const list = document.getElementById(box.getAttribute("aria-controls"));
  if (list) list.hidden = true;
  box.removeAttribute("aria-activedescendant");
}
function chooseMention(box, option) {
  const cursor = box.selectionStart;
  const before = box.value.slice(0, cursor).replace(/@[\w.+-]*$/, `@${option.dataset.username} `);
  box.value = before + box.value.slice(cursor);
  box.setSelectionRange(before.length, before.length);
  closeMentions(box);
  box.focus();
}
function markMention(box, list, index) {
  const options = mentionOptions(list);
  options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
  if (options[index]) {
    box.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }
}
document.addEventListener("keydown", (event) => {
  const box = event.target;
  if (!box.matches || !box.matches("textarea[data-mention]")) return;
  const list = mentionList(box);
  if (!list) return;
  const options = mentionOptions(list);
  const active = options.findIndex((option) => option.getAttribute("aria-selected") === "true");
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    markMention(box, list, active < 0 ? (step > 0 ? 0 : options.length - 1) : (active + step + options.length) % options.length);
  } else if ((event.key === "Enter" || event.key === "Tab") && (active >= 0 || options.length === 1)) {
    event.preventDefault();
    chooseMention(box, options[Math.max(active, 0)]);
  } else if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    closeMentions(box);
  }
});
document.addEventListener("mousedown", (event) => {
  if (event.target.closest && event.target.closest(".mention-list")) event.preventDefault(); // keep the focus in the box
});
document.addEventListener("click", (event) => {
  const option = event.target.closest && event.target.closest(".mention-list [role=option]");
  if (!option) return;
  const box = document.querySelector(`textarea[aria-controls="${CSS.escape(option.closest(".mention-list").id)}"]`);
  if (box) chooseMention(box, option);
});
document.addEventListener("focusout", (event) => {
  const box = event.target;
  if (box.matches && box.matches("textarea[data-mention]")) setTimeout(() => closeMentions(box), 150);
});
// A fresh list (from the server) has nothing chosen yet; say how many people it offers.
document.addEventListener("htmx:afterSwap", (event) => {
  const list = event.detail.target && document.getElementById(event.detail.target.id);
  if (!list || !list.classList || !list.classList.contains("mention-list")) return;
  const box = document.querySelector(`textarea[aria-controls="${CSS.escape(list.id)}"]`);
  if (box) box.removeAttribute("aria-activedescendant");
  const live = document.getElementById("feed-live-status");
  const count = mentionOptions(list).length;
  if (live && !list.hidden) live.textContent = `${count} ${count === 1 ? "person" : "people"} to mention`;
});

/* === Feed: notifications and approvals === */

// A form marked data-swap-errors shows the server's refusal in place: htmx leaves
// 4xx answers unswapped by default, but a refused decision (400 missing comment,
// 403 not yours to decide, 409 already decided) comes back as the fragment that says why.
function swapsErrors(detail) {
  const source = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;  // the form that asked
  return [400, 403, 409].includes(detail.xhr.status) && !!(source && source.closest && source.closest("[data-swap-errors]"));
}
// In DEBUG, django-htmx's script replaces the whole page with any 400/403 answer; these
// answers are fragments meant for their form, so that script does not get to see them.
window.addEventListener("htmx:beforeOnLoad", (event) => {
  if (swapsErrors(event.detail)) event.stopPropagation();
}, true);
document.addEventListener("htmx:beforeSwap", (event) => {
  if (swapsErrors(event.detail)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

/* --- pipeline board --- */
// Cards move by drag and drop (HTML5) or by their "Move to" menu (keyboard, and
// without JavaScript a plain form). Either way the server moves the deal
// (crm.opportunities.move_stage) and may refuse: the card then goes back and the
// refusal is shown. Losing a deal asks why first, in a dialog.
(() => {
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }
  function say(message, isError) {
    const status = document.getElementById("board-status");
    const alert = document.getElementById("board-alert");
    if (isError && alert) {
      alert.innerHTML = "";
      const box = document.createElement("div");
      box.className = "alert alert-danger alert-dismissible py-2";
      box.textContent = message;
      const close = document.createElement("button");
      close.type = "button"; close.className = "btn-close"; close.setAttribute("aria-label", "Close");
      close.setAttribute("data-bs-dismiss", "alert");
      box.appendChild(close);
      alert.appendChild(box);
    } else if (status) {
      status.textContent = message;
    }
  }
  function askReason(card) {
    const dialog = document.getElementById("lose-dialog");
    if (!dialog || !dialog.showModal) {
      const reason = window.prompt(`Why was ${card.dataset.dealName} lost?`);
      return Promise.resolve(reason && reason.trim() ? reason.trim() : null);
    }
    const input = dialog.querySelector("input[name=lost_reason]");
    dialog.querySelector("[data-deal-name]").textContent = card.dataset.dealName || "the deal";
    input.value = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        resolve(dialog.returnValue === "lose" && input.value.trim() ? input.value.trim() : null);
      }, { once: true });
      dialog.showModal();
      input.focus();
    });
  }
  async function moveCard(card, column) {
    const list = column.querySelector(".board-cards");
    const stageId = column.dataset.stage;
    if (!list || card.dataset.stage === stageId) return;
    const board = document.getElementById("pipeline-board");
    let reason = "";
    if (column.hasAttribute("data-stage-lost")) {
      reason = await askReason(card);
      if (reason === null) { say("Not moved: a lost deal needs a reason.", false); return; }
    }
    const home = { list: card.parentElement, next: card.nextElementSibling };
    list.prepend(card);  // at once; put back if the server refuses
    card.classList.add("is-moving");
    const body = new URLSearchParams({ stage: stageId, lost_reason: reason });
    const query = board && board.dataset.boardQuery ? `?${board.dataset.boardQuery}` : "";
    let response;
    try {
      response = await fetch(card.dataset.moveUrl + query, {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      });
    } catch (e) {
      response = null;
    }
    card.classList.remove("is-moving");
    if (!response || !response.ok) {
      home.list.insertBefore(card, home.next);
      const text = response ? await response.text() : "The server could not be reached; try again.";
      say(`${card.dataset.dealName} was not moved: ${text}`, true);
      const select = card.querySelector("select[name=stage]");
      if (select) select.value = card.dataset.stage;
      card.focus();
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    const fresh = template.content.querySelector(".deal-card");
    template.content.querySelectorAll(".board-column-header").forEach((header) => {
      const old = document.getElementById(header.id);
      if (old) old.replaceWith(header);
    });
    if (fresh) {
      card.replaceWith(fresh);
      if (window.htmx) window.htmx.process(fresh);
      const select = fresh.querySelector("select[name=stage]");
      (select || fresh).focus();
    }
    list.querySelectorAll(".board-empty").forEach((empty) => empty.remove());
    document.getElementById("board-alert").innerHTML = "";
    say(`Moved ${card.dataset.dealName} to ${column.dataset.stageName}.`, false);
  }

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest(".deal-card[draggable=true]");
    if (!card) return;
    event.dataTransfer.setData("text/plain", card.id);
    event.dataTransfer.effectAllowed = "move";
    card.classList.add("is-dragging");
  });
  document.addEventListener("dragend", (event) => {
    const card = event.target.closest && event.target.closest(".deal-card");
    if (card) card.classList.remove("is-dragging");
    document.querySelectorAll(".board-cards.is-drop-target").forEach((list) => list.classList.remove("is-drop-target"));
  });
  document.addEventListener("dragover", (event) => {
    const column = event.target.closest && event.target.closest(".board-column");
    if (!column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".board-cards.is-drop-target").forEach((list) => {
      if (!column.contains(list)) list.classList.remove("is-drop-target");
    });
    column.querySelector(".board-cards").classList.add("is-drop-target");
  });
  document.addEventListener("drop", (event) => {
    const column = event.target.closest && event.target.closest(".board-column");
    if (!column) return;
    event.preventDefault();
    column.querySelector(".board-cards").classList.remove("is-drop-target");
    const card = document.getElementById(event.dataTransfer.getData("text/plain"));
    if (card && card.classList.contains("deal-card")) moveCard(card, column);
  });
  // The "Move to" menu: the same move, without leaving the board.
  document.addEventListener("submit", (event) => {
    const form = event.target.closest && event.target.closest(".deal-move");
    if (!form || !form.closest("#pipeline-board")) return;
    event.preventDefault();
    const card = form.closest(".deal-card");
    const stageId = form.querySelector("select[name=stage]").value;
    const column = document.querySelector(`.board-column[data-stage="${CSS.escape(stageId)}"]`);
    if (card && column) moveCard(card, column);
  });
})();
