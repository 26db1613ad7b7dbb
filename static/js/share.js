// The share link's Copy button: copies the link's full address (the text stays selectable for
// when the clipboard is not available, as on plain http away from localhost). No dependencies.
//
// Markup: <button data-copy="#share-link"> where #share-link is an <a> or an <input>.

function textOf(el) {
  if (!el) return "";
  if ("value" in el && el.tagName !== "BUTTON") return el.value;
  if (el.href) return el.href; // an <a>: its absolute URL, host included
  return el.textContent.trim();
}

function say(button, message) {
  const status = button.parentElement && button.parentElement.querySelector("[data-copy-status]");
  if (status) status.textContent = message;
  else button.title = message;
}

function selectText(el) {
  if (typeof el.select === "function") {
    el.select();
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(el);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

async function copy(button) {
  const target = document.querySelector(button.dataset.copy);
  const text = textOf(target);
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
    say(button, "Copied: paste it anywhere.");
  } catch {
    if (target) selectText(target);
    say(button, "Press Ctrl+C (or ⌘C) to copy the selected link.");
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button[data-copy]");
  if (!button) return;
  event.preventDefault();
  copy(button);
});
