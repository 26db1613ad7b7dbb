// The map's zoom and camera.
//
// At zoom 1 the drawing fits its viewport both ways (the SVG's viewBox keeps its shape).
// Zooming makes the SVG k times the viewport, which then scrolls to pan; the trace marker
// moves in viewBox units, so it stays on its devices at any zoom. The camera, driven by the
// trace player, zooms in only when the whole map would make its text too small to read (a
// big cluster) and keeps the packet in the middle of the view.
const STEPS = [1, 1.5, 2, 3];

let level = 1;
let following = false; // the camera chose the zoom, not the learner

const area = () => document.getElementById("map-area");
const viewport = () => document.querySelector("#map-area .map-viewport");
const svgOf = () => document.querySelector("#map-area svg.cluster-map");
const reducedMotion = () =>
  window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// The smallest readable size of the map's pod-IP text, in CSS px, for the screen it is on.
function minimumTextPx() {
  if (!document.body.classList.contains("present")) return 12;
  return window.innerWidth >= 1700 ? 20 : 14;
}

function fitScale(svg, vp) {
  const box = svg.viewBox.baseVal;
  if (!box || !box.width || !vp.clientWidth) return 1;
  return Math.min(vp.clientWidth / box.width, vp.clientHeight / box.height);
}

function podIpUnits(svg) {
  const text = svg.querySelector(".pod-ip:not(.long)") || svg.querySelector(".pod-ip");
  return text ? parseFloat(getComputedStyle(text).fontSize) || 20 : 20;
}

function label() {
  const text = document.querySelector("#map-area .map-zoom-level");
  if (text) {
    text.textContent = `${Math.round(level * 100)}%`;
    text.title = following ? "Zoomed in to follow the packet: the whole map would be too small to read" : "";
    text.classList.toggle("is-following", following);
  }
  const out = document.querySelector('#map-area .map-zoom [data-zoom="out"]');
  const zoomIn = document.querySelector('#map-area .map-zoom [data-zoom="in"]');
  if (out) out.disabled = level <= 1;
  if (zoomIn) zoomIn.disabled = level >= STEPS[STEPS.length - 1];
}

function apply() {
  const svg = svgOf();
  if (svg) {
    svg.style.width = level > 1 ? `${level * 100}%` : "";
    svg.style.height = level > 1 ? `${level * 100}%` : "";
  }
  label();
}

// Scroll the viewport so that the viewBox point [x, y] is in its middle.
function centre(point, smooth) {
  const svg = svgOf();
  const vp = viewport();
  if (!svg || !vp || !point || level <= 1) return;
  const box = svg.viewBox.baseVal;
  const scale = fitScale(svg, vp) * level;
  const left = (svg.clientWidth - box.width * scale) / 2 + (point[0] - box.x) * scale;
  const top = (svg.clientHeight - box.height * scale) / 2 + (point[1] - box.y) * scale;
  vp.scrollTo({
    left: left - vp.clientWidth / 2,
    top: top - vp.clientHeight / 2,
    behavior: smooth && !reducedMotion() ? "smooth" : "auto",
  });
}

// The camera: zoom in just enough for readable text when the fitted map is too small, and
// keep `point` in view. Returns the scale the pod-IP text is drawn at (CSS px per unit).
export function focus(point, smooth = true) {
  const svg = svgOf();
  const vp = viewport();
  if (!svg || !vp) return 1;
  const fit = fitScale(svg, vp);
  const needed = minimumTextPx() / podIpUnits(svg) / fit;
  if (needed > level + 0.01 && (following || level === 1)) {
    level = Math.min(needed, 4);
    following = true;
    apply();
  }
  centre(point, smooth);
  return fit * level;
}

// Back to the whole map, unless the learner chose a zoom.
export function overview() {
  if (!following) return;
  following = false;
  level = 1;
  apply();
}

function zoomBy(direction) {
  following = false;
  const next = direction > 0 ? STEPS.find((s) => s > level + 0.01) : [...STEPS].reverse().find((s) => s < level - 0.01);
  level = next || level;
  apply();
}

function zoomControls() {
  const bar = document.querySelector("#map-area .map-toolbar");
  if (!bar || bar.querySelector(".map-zoom")) return;
  const group = document.createElement("div");
  group.className = "map-zoom";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", "Zoom the map");
  const button = (text, name, direction) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.dataset.zoom = direction > 0 ? "in" : "out";
    b.setAttribute("aria-label", name);
    b.addEventListener("click", () => zoomBy(direction));
    return b;
  };
  const text = document.createElement("span");
  text.className = "map-zoom-level";
  group.append(button("−", "Zoom out", -1), text, button("+", "Zoom in", 1));
  bar.prepend(group);
  apply();
}

// The map was redrawn (htmx swapped #map-area): zoom controls again, the zoom kept.
// (static/js/panel.js outlines what just arrived.)
document.addEventListener("htmx:oobAfterSwap", (event) => {
  const element = (event.detail && event.detail.target) || event.target;
  if (!element || element.id !== "map-area") return;
  zoomControls();
  apply();
  element.dispatchEvent(new CustomEvent("podpath:map-redrawn"));
});

function init() {
  if (area()) zoomControls();
}

window.podpathMap = { focus, overview, zoom: zoomBy, level: () => level };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
