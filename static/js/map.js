// The map's zoom controls, and a highlight on pods that just arrived.
// Zooming changes the SVG's CSS width (its viewBox stays), so the trace marker, which moves
// in viewBox units, stays on its devices; the map area scrolls to pan.
const STEPS = [1, 1.5, 2, 3];

function zoomControls(area) {
  if (area.querySelector(".map-zoom")) return;
  const bar = document.createElement("div");
  bar.className = "map-zoom";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Zoom the map");
  let level = 0;
  const apply = () => {
    const svg = area.querySelector("svg.cluster-map");
    if (svg) svg.style.width = `${STEPS[level] * 100}%`;
    out.disabled = level === 0;
    zoomIn.disabled = level === STEPS.length - 1;
    label.textContent = `${STEPS[level] * 100}%`;
  };
  const button = (text, name, step) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.setAttribute("aria-label", name);
    b.addEventListener("click", () => {
      level = Math.max(0, Math.min(STEPS.length - 1, level + step));
      apply();
    });
    return b;
  };
  const out = button("−", "Zoom out", -1);
  const zoomIn = button("+", "Zoom in", 1);
  const label = document.createElement("span");
  label.className = "map-zoom-level";
  bar.append(out, label, zoomIn);
  area.prepend(bar);
  area.addEventListener("podpath:map-redrawn", apply);
  apply();
}

function podNames(area) {
  return new Set([...area.querySelectorAll('[data-kind="Pod"]')].map((p) => p.dataset.name));
}

let before = null;

// htmx names the swapped element in detail.target (the event itself may be dispatched elsewhere).
const swapped = (event) => {
  const element = (event.detail && event.detail.target) || event.target;
  return element && element.id === "map-area" ? element : null;
};

document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const area = swapped(event);
  if (area) before = podNames(area);
});

document.addEventListener("htmx:oobAfterSwap", (event) => {
  const area = swapped(event);
  if (!area) return;
  zoomControls(area);
  area.dispatchEvent(new CustomEvent("podpath:map-redrawn"));
  if (!before) return;
  for (const pod of area.querySelectorAll('[data-kind="Pod"]')) {
    if (!before.has(pod.dataset.name)) pod.classList.add("is-new");
  }
  before = null;
});

function init() {
  const area = document.getElementById("map-area");
  if (area) zoomControls(area);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
