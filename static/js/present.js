// Presentation mode for projectors: large type, high contrast, the build panel hidden, the map
// and the trace filling the screen (static/css/present.css does the looks).
//
// On with ?present=1 in the URL (so a link opens in it), off with ?present=0; the button
// #present-toggle and the key "p" switch it. The choice is kept in the URL (replaceState, so
// a reload or a copied link keeps it) and for the rest of the tab's session (so moving
// between tabs or resetting the sandbox does not drop out of it). No dependencies.

const CLASS = "present";
const KEY = "podpath-present";

function fromUrl() {
  const value = new URLSearchParams(window.location.search).get("present");
  if (value === null) return null;
  return value === "1" || value === "true" || value === "";
}

function remembered() {
  try {
    return window.sessionStorage.getItem(KEY) === "1";
  } catch {
    return false; // storage blocked: the URL alone decides
  }
}

function remember(on) {
  try {
    if (on) window.sessionStorage.setItem(KEY, "1");
    else window.sessionStorage.removeItem(KEY);
  } catch {
    // storage blocked: nothing to keep
  }
}

function syncUrl(on) {
  const url = new URL(window.location.href);
  if (on) url.searchParams.set("present", "1");
  else url.searchParams.delete("present");
  if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url);
}

function syncButtons(on) {
  for (const button of document.querySelectorAll("#present-toggle, [data-present-toggle]")) {
    button.setAttribute("aria-pressed", String(on));
    const label = button.querySelector("[data-present-label]") || button;
    label.textContent = on ? "Leave presentation mode" : "Presentation mode";
  }
}

export function isOn() {
  return document.body.classList.contains(CLASS);
}

export function setPresent(on) {
  document.body.classList.toggle(CLASS, on);
  document.documentElement.classList.toggle(CLASS, on); // the root font size scales from here
  remember(on);
  syncUrl(on);
  syncButtons(on);
  // The map's layout changed size: let anything that measures it (the trace player) know.
  window.dispatchEvent(new Event("resize"));
}

export function toggle() {
  setPresent(!isOn());
}

function onClick(event) {
  const button = event.target.closest && event.target.closest("#present-toggle, [data-present-toggle]");
  if (!button) return;
  event.preventDefault();
  toggle();
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
  if (event.key !== "p" && event.key !== "P") return;
  const t = event.target;
  if (t && t.closest && t.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])")) return;
  event.preventDefault();
  toggle();
}

function start() {
  const wanted = fromUrl();
  setPresent(wanted === null ? remembered() : wanted);
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKey);
  // htmx may swap in a new toggle button (or push a URL without ?present): keep both right.
  document.addEventListener("htmx:afterSettle", () => syncButtons(isOn()));
  document.addEventListener("htmx:pushedIntoHistory", () => syncUrl(isOn()));
}

window.podpathPresent = { isOn, setPresent, toggle };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
