// Keyboard for the review desk. Single keys act only when no text field has focus;
// Escape leaves a field. Everything here also works with the mouse and without this script.
(function () {
  "use strict";
  const page = document.querySelector("[data-page]")?.dataset.page;
  const help = document.getElementById("keyboard-help");

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=true]") !== null;
  }

  function focusField(id) {
    const field = document.getElementById(id);
    if (!field) return false;
    field.closest("details")?.setAttribute("open", "");
    field.scrollIntoView({ block: "center" });
    field.focus();
    return true;
  }

  // Queue: j/k move a visible selection over the rows; Enter (on the link) opens it.
  const rows = () => Array.from(document.querySelectorAll("[data-ticket-row]"));
  let selected = -1;
  function select(index) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(all.length - 1, index));
    all.forEach((row, i) => row.classList.toggle("selected", i === selected));
    const link = all[selected].querySelector("a.ticket-link");
    link.focus();
    all[selected].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("focusin", (event) => {
    const row = event.target.closest("[data-ticket-row]");
    if (row) selected = rows().indexOf(row);
  });

  function follow(key) {
    const link = document.querySelector(`a[data-key="${key}"]`);
    if (link) window.location.assign(link.href);
  }

  const actions = {
    j: () => (page === "queue" ? select(selected + 1) : follow("j")),
    k: () => (page === "queue" ? select(selected - 1) : follow("k")),
    u: () => follow("u"),
    "/": () => focusField("q"),
    e: () => focusField("draft-text"),
    n: () => focusField("note-text"),
    c: () => focusField("category"),
    a: () => document.getElementById("approve")?.click(),
    "?": () => (help.open ? help.close() : help.showModal()),
  };

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (help?.open && event.key !== "?") return;
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.querySelectorAll("[data-help]").forEach((button) =>
    button.addEventListener("click", () => help.showModal()));

  // After an action the page reloads at the top: bring the person back to the draft
  // when it was blocked, so the findings are in view.
  if (document.querySelector(".draft-editor [role=alert]")) focusField("draft-text");
})();
