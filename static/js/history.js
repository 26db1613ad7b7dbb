// Undo and redo: the keys u (undo) and Shift+U (redo) submit the head's Undo and Redo forms,
// and after any other change made through htmx the buttons are fetched again, so their
// labels always name the newest change. Without JavaScript the forms still post.
//
// Markup (templates/_history.html): <div id="history" data-history-url="...">
//   <form data-history-step="undo">…<button>…</button></form>, the same for "redo".

function typing(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

function step(direction) {
  const form = document.querySelector(`#history form[data-history-step="${direction}"]`);
  const button = form && form.querySelector("button");
  if (!form || !button || button.disabled) return false;
  button.disabled = true; // one press, one step: the answer brings fresh buttons
  if (typeof form.requestSubmit === "function") form.requestSubmit();
  else form.submit();
  return true;
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
  if (event.repeat || typing(event.target)) return;
  let direction = null;
  if (event.key === "u" && !event.shiftKey) direction = "undo";
  else if (event.key === "U") direction = "redo";
  if (direction && step(direction)) event.preventDefault();
});

function refresh() {
  const box = document.getElementById("history");
  const url = box && box.dataset.historyUrl;
  if (!url || !window.htmx) return;
  window.htmx.ajax("GET", url, { target: "#history", swap: "outerHTML" });
}

// Another form changed the cluster (apply, delete, scale, a lesson's "Show me"...): the
// newest change is now that one. Undo and redo bring their own buttons back.
document.addEventListener("htmx:afterRequest", (event) => {
  const detail = event.detail || {};
  const config = detail.requestConfig || {};
  if (!detail.successful || String(config.verb).toLowerCase() !== "post") return;
  const path = String(config.path || "");
  if (/\/(undo|redo)$/.test(path.split("?")[0])) return;
  refresh();
});

// The panel's tabs change the address without reloading the head: an undo answers in the
// tab the learner is looking at.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches("#history form")) return;
  const tab = new URLSearchParams(window.location.search).get("tab");
  const input = form.querySelector("input[name=tab]");
  if (tab && input) input.value = tab;
}, true);
