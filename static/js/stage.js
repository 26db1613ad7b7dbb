// The stage's panel toggle: the side panel (Build, YAML, Objects, ...) folds to a rail so the
// map, the hops and the headers get the room, and comes back with one click or the key E.
//
// By default the panel is open in the sandbox and folded in a lesson on screens narrower
// than 1700 px (where the lesson, the stage and the panel do not fit side by side). A choice
// made with the toggle is kept for the tab's session. Opening an object's details (a click
// on the map, static/js/details.js) unfolds it.
//
// On a phone (up to 480 px wide; stage.css stacks the page in one column) the panel starts
// folded to its tabs, under the map and the trace; a tab unfolds it. What a tap on the map or
// the trace bar opens lower down (an object's details, a new trace) is scrolled into view.

const KEY = "podpath-panel";

const grid = () => document.querySelector(".sandbox-grid");
const phone = () => Boolean(window.matchMedia && window.matchMedia("(max-width: 480px)").matches);
const reducedMotion = () =>
  window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const toggleButton = () => document.getElementById("panel-toggle");

function stored() {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function store(value) {
  try {
    window.sessionStorage.setItem(KEY, value);
  } catch {
    // storage blocked: the choice lasts until the page changes
  }
}

export function setOpen(open) {
  const g = grid();
  if (!g) return;
  g.classList.toggle("panel-closed", !open);
  const button = toggleButton();
  if (button) button.setAttribute("aria-expanded", String(open));
  window.dispatchEvent(new Event("resize"));
}

export const isOpen = () => !(grid() && grid().classList.contains("panel-closed"));

export function toggle() {
  const open = !isOpen();
  setOpen(open);
  store(open ? "open" : "closed");
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
  if (event.key !== "e" && event.key !== "E") return;
  const t = event.target;
  if (t && t.closest && t.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])")) return;
  event.preventDefault();
  toggle();
}

// Every htmx request says which view of the map the page shows (system pods, a namespace),
// so an answer that redraws the map, or places a trace on it, keeps that view.
function sayTheView(event) {
  const svg = document.querySelector("svg.cluster-map");
  if (!svg || !event.detail || !event.detail.headers) return;
  if (svg.dataset.showSystem === "true") event.detail.headers["X-Podpath-System"] = "1";
  if (svg.dataset.namespaceFilter) event.detail.headers["X-Podpath-Namespace"] = svg.dataset.namespaceFilter;
}

// The trace bar is redrawn when the cluster changes (new pods to start from, new Services to
// go to); what the learner had picked and typed stays, unless the answer fills in a request.
let typed = null;
const isBar = (event) => {
  const target = event.detail && event.detail.target;
  return target && target.id === "trace-bar";
};
function beforeBarSwap(event) {
  if (!isBar(event)) return;
  const form = event.detail.target.querySelector("form.trace-bar");
  typed = form ? { from: form.elements.from.value, to: form.elements.to.value, family: form.elements.ipFamily ? form.elements.ipFamily.value : "" } : null;
}
function afterBarSwap(event) {
  if (!isBar(event) || !typed) return;
  const form = event.detail.target.querySelector("form.trace-bar");
  if (form && !form.elements.to.value) {
    if ([...form.elements.from.options].some((o) => o.value === typed.from)) form.elements.from.value = typed.from;
    form.elements.to.value = typed.to;
    if (form.elements.ipFamily) form.elements.ipFamily.value = typed.family;  // dual-stack only
  }
  typed = null;
}

// On a phone: bring into view what an answer put out of sight, below or above the control
// that asked for it. The panel's own forms and tabs keep the page where it is (panel.js).
function showOnPhone(event) {
  const target = event.detail && event.detail.target;
  if (!phone() || !target) return;
  const config = event.detail.requestConfig;
  const source = config && config.elt && config.elt.closest ? config.elt : document.body;
  let element = null;
  if (target.id === "panel" && !source.closest("#panel, #sandbox-head")) element = target.closest(".panel-column") || target;
  else if (target.id === "trace-result" && source.closest("#trace-bar, #panel")) {
    element = target.querySelector("[data-trace-player]") ? document.getElementById("map-area") : target;
  }
  if (!element) return;
  const box = element.getBoundingClientRect();
  if (box.top >= 0 && box.top < window.innerHeight * 0.6) return;
  element.scrollIntoView({ block: "start", behavior: reducedMotion() ? "auto" : "smooth" });
}

function start() {
  const g = grid();
  if (!g) return;
  const choice = stored();
  const narrowLesson = g.classList.contains("with-lesson") && window.innerWidth < 1700;
  setOpen(choice ? choice === "open" : !(narrowLesson || phone()));
  document.addEventListener("click", (event) => {
    if (!event.target.closest) return;
    if (event.target.closest("#panel-toggle")) toggle();
    // A link from the stage that opens something in the panel (the rules a hop matched, say).
    else if (event.target.closest('#stage [hx-target="#panel"]') && !isOpen()) setOpen(true);
    // A tab of the panel folded to its tabs (a phone).
    else if (event.target.closest("#panel .tabs a") && !isOpen()) setOpen(true);
  });
  document.addEventListener("keydown", onKey);
  document.addEventListener("htmx:configRequest", sayTheView);
  document.addEventListener("htmx:oobBeforeSwap", beforeBarSwap);
  document.addEventListener("htmx:oobAfterSwap", afterBarSwap);
  document.addEventListener("htmx:afterSwap", showOnPhone);
}

window.podpathStage = { setOpen, isOpen, toggle };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
