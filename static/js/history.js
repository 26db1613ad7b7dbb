// Undo and redo: the keys u (undo) and Shift+U (redo) submit the head's Undo and Redo forms.
// Every answer that changes the cluster brings the head back too (app/web/rendering.py
// CLUSTER_CHANGED), so the buttons always name the newest change. Without JavaScript the
// forms still post.
//
// Markup (templates/_history.html): <div id="history">
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
  if (event.key !== "u" && event.key !== "U") return;
  // Shift decides, not the letter's case: Caps Lock on, u still undoes.
  const direction = event.shiftKey ? "redo" : "undo";
  if (step(direction)) event.preventDefault();
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
