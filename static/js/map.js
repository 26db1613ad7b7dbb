// The map's zoom and camera.
//
// At zoom 1 the drawing fits its viewport both ways (the SVG's viewBox keeps its shape).
// Zooming makes the SVG k times the viewport, which then scrolls to pan; the trace marker
// moves in viewBox units, so it stays on its devices at any zoom. The camera, driven by the
// trace player, zooms in only when the whole map would make its text too small to read (a
// big cluster) and keeps the packet in the middle of the view.
//
// On a phone (up to 480 px wide) the camera works on the viewBox instead: the SVG fills the
// width of the page and shows a window of the drawing at a scale where pod names and IPs are
// read at 12 px. The window follows the packet; with no trace it shows the first worker node.
// "Whole map" shows the whole drawing (small), and a tap on it zooms in there. Nothing
// captures touches, so the page scrolls and pinch-zooms as any page does.
const STEPS = [1, 1.5, 2, 3];
const PHONE = "(max-width: 480px)";
const PHONE_TEXT_PX = 12; // the smallest pod name or IP on a phone, in CSS px
const PHONE_MAX_VH = 0.55; // the map's height on a phone: at most this share of the screen
const TWEEN_MS = 380;

let level = 1;
let following = false; // the camera chose the zoom, not the learner

const area = () => document.getElementById("map-area");
const viewport = () => document.querySelector("#map-area .map-viewport");
const svgOf = () => document.querySelector("#map-area svg.cluster-map");
const reducedMotion = () =>
  window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const phoneQuery = window.matchMedia ? window.matchMedia(PHONE) : null;
export const isPhone = () => Boolean(phoneQuery && phoneQuery.matches);

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
  if (isPhone()) {
    if (svg) svg.style.width = svg.style.height = "";
    phoneShow(false);
    return;
  }
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
  if (isPhone()) {
    if (point) packet = point;
    if (!whole) phoneMove(packet ? follow(svg, packet) : home(svg), smooth);
    return phoneScale(svg);
  }
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
  packet = null;
  if (isPhone()) {
    phoneShow(true);
    return;
  }
  if (!following) return;
  following = false;
  level = 1;
  apply();
}

// --- the phone camera ----------------------------------------------------------------------

let whole = false; // the learner asked for the whole map
let packet = null; // the packet's point while a trace is shown
let shown = null; // the viewBox on screen: {x, y, w, h}
let tween = 0;

// The whole drawing: the SVG's width and height attributes (its viewBox as the server drew it).
function drawing(svg) {
  const w = Number(svg.getAttribute("width"));
  const h = Number(svg.getAttribute("height"));
  if (w > 0 && h > 0) return { x: 0, y: 0, w, h };
  const box = svg.viewBox.baseVal;
  return { x: box.x, y: box.y, w: box.width || 1000, h: box.height || 500 };
}

// CSS px per viewBox unit that draws the smallest pod name or IP at PHONE_TEXT_PX.
function phoneScale(svg) {
  let units = Infinity;
  for (const selector of [".pod-name", ".pod-ip"]) {
    const text = svg.querySelector(selector);
    const size = text && parseFloat(getComputedStyle(text).fontSize);
    if (size) units = Math.min(units, size);
  }
  return PHONE_TEXT_PX / (Number.isFinite(units) ? units : 17);
}

// The window's size in viewBox units: the page's width at the readable scale, and as tall as
// the drawing or PHONE_MAX_VH of the screen, whichever is less.
function windowSize(svg) {
  const full = drawing(svg);
  const scale = phoneScale(svg);
  const vp = viewport();
  const widthPx = (vp && vp.clientWidth) || window.innerWidth;
  // The layout viewport's height, which stays put while a phone's address bar comes and goes.
  const screenPx = document.documentElement.clientHeight || window.innerHeight;
  return { w: Math.min(widthPx / scale, full.w), h: Math.min(full.h, (screenPx * PHONE_MAX_VH) / scale) };
}

// The window moved back inside the drawing (centred on it where the drawing is smaller).
function clampTo(svg, box) {
  const full = drawing(svg);
  const along = (at, size, start, length) =>
    size >= length ? start + (length - size) / 2 : Math.min(Math.max(at, start), start + length - size);
  return { x: along(box.x, box.w, full.x, full.w), y: along(box.y, box.h, full.y, full.h), w: box.w, h: box.h };
}

const centredOn = (svg, point) => {
  const size = windowSize(svg);
  return clampTo(svg, { x: point[0] - size.w / 2, y: point[1] - size.h / 2, ...size });
};

// The window for the packet at `point`: the one on screen while the packet is well inside it
// (the map does not swim under a packet moving within one node), else one centred on it.
function follow(svg, point) {
  const size = windowSize(svg);
  if (!shown || Math.abs(shown.w - size.w) > 0.5 || Math.abs(shown.h - size.h) > 0.5) return centredOn(svg, point);
  const mx = Math.min(size.w * 0.25, 120);
  const my = Math.min(size.h * 0.2, 60);
  let { x, y } = shown;
  if (point[0] < x + mx || point[0] > x + size.w - mx) x = point[0] - size.w / 2;
  if (point[1] < y + my || point[1] > y + size.h - my) y = point[1] - size.h / 2;
  return clampTo(svg, { x, y, ...size });
}

// With no trace: the first worker node (the first node when there are no workers).
function home(svg) {
  const nodes = [...svg.querySelectorAll('[data-kind="Node"]')];
  const node = nodes.find((n) => !/control-plane|master/.test(n.dataset.name || "")) || nodes[0];
  const box = node && (node.querySelector("rect") || node).getBBox();
  if (!box) return centredOn(svg, [0, 0]);
  const size = windowSize(svg);
  const top = box.height > size.h ? box.y - 8 : box.y + box.height / 2 - size.h / 2;
  return clampTo(svg, { x: box.x + box.width / 2 - size.w / 2, y: top, ...size });
}

const boxText = (box) => box && [box.x, box.y, box.w, box.h].map((v) => v.toFixed(1)).join(" ");

function setBox(svg, box) {
  shown = box;
  svg.setAttribute("viewBox", boxText(box));
  // The element takes the window's shape (its width and height attributes give the whole
  // drawing's), so the window fills the page's width and nothing outside it shows.
  const ratio = `${box.w.toFixed(1)} / ${box.h.toFixed(1)}`;
  if (svg.style.aspectRatio !== ratio) svg.style.aspectRatio = ratio;
}

function phoneMove(target, smooth) {
  const svg = svgOf();
  if (!svg || !target) return;
  if (tween) cancelAnimationFrame(tween);
  tween = 0;
  const from = shown;
  const sameSize = from && Math.abs(from.w - target.w) < 0.5 && Math.abs(from.h - target.h) < 0.5;
  if (!smooth || !sameSize || reducedMotion() || svg.getAttribute("viewBox") !== boxText(from)) {
    setBox(svg, target);
    return;
  }
  const t0 = performance.now();
  const step = (now) => {
    const t = Math.min(1, (now - t0) / TWEEN_MS);
    const e = t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2;
    const s = svgOf();
    if (!s) return;
    setBox(s, { x: from.x + (target.x - from.x) * e, y: from.y + (target.y - from.y) * e, w: target.w, h: target.h });
    tween = t < 1 ? requestAnimationFrame(step) : 0;
  };
  tween = requestAnimationFrame(step);
}

// Show what the phone camera should: the whole map, the packet, or the first worker.
function phoneShow(smooth) {
  const svg = svgOf();
  if (!svg) return;
  if (whole) phoneMove(drawing(svg), false);
  else phoneMove(packet ? follow(svg, packet) : home(svg), smooth);
  phoneLabel();
}

function phoneLabel() {
  const a = area();
  if (a) a.classList.toggle("is-whole", isPhone() && whole);
  const button = document.querySelector("#map-area .map-whole");
  if (button) button.setAttribute("aria-pressed", String(whole));
}

function setWhole(on, point) {
  whole = on;
  const svg = svgOf();
  if (!svg) return;
  if (on) phoneShow(false);
  else {
    phoneMove(point ? centredOn(svg, point) : packet ? centredOn(svg, packet) : home(svg), false);
    phoneLabel();
  }
}

// The whole map on a phone: a tap zooms in where it landed (and opens nothing).
function onTap(event) {
  if (!isPhone() || !whole || !event.target.closest) return;
  const svg = event.target.closest("#map-area svg.cluster-map");
  if (!svg || !svg.getScreenCTM()) return;
  const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
  event.preventDefault();
  event.stopPropagation();
  setWhole(false, [p.x, p.y]);
}

// A pod, Service or node reached with the keyboard comes into the phone's window.
function onFocus(event) {
  if (!isPhone() || whole || !event.target.closest) return;
  const element = event.target.closest("#map-area svg.cluster-map [tabindex]");
  const svg = svgOf();
  if (!element || !svg || !shown) return;
  const box = (element.querySelector("rect") || element).getBBox();
  const inside = box.x >= shown.x && box.y >= shown.y && box.x + box.width <= shown.x + shown.w && box.y + box.height <= shown.y + shown.h;
  if (!inside) phoneMove(centredOn(svg, [box.x + box.width / 2, box.y + box.height / 2]), true);
}

// Into or out of the phone layout (a rotation, a resized window): the drawing as the server
// drew it for the desktop camera, the window for the phone's.
function onLayout() {
  const svg = svgOf();
  if (!svg) return;
  if (isPhone()) phoneShow(false);
  else {
    if (tween) cancelAnimationFrame(tween);
    tween = 0;
    shown = null;
    const full = drawing(svg);
    const box = `${full.x} ${full.y} ${full.w} ${full.h}`;
    if (svg.getAttribute("viewBox") !== box) svg.setAttribute("viewBox", box);
    svg.style.aspectRatio = "";
    phoneLabel();
    apply();
  }
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
  // On a phone (stage.css shows it there only): the whole map, or back to readable size.
  const wholeButton = document.createElement("button");
  wholeButton.type = "button";
  wholeButton.className = "map-whole";
  wholeButton.textContent = "Whole map";
  wholeButton.setAttribute("aria-pressed", String(whole));
  wholeButton.title = "Show the whole map; tap it to zoom in there";
  wholeButton.addEventListener("click", () => setWhole(!whole));
  const hint = document.createElement("span");
  hint.className = "map-tap-hint";
  hint.textContent = "Tap the map to zoom in there";
  bar.prepend(group, wholeButton, hint);
  apply();
}

// The map was redrawn (htmx swapped #map-area): zoom controls again, the zoom kept.
// (static/js/panel.js outlines what just arrived.)
document.addEventListener("htmx:oobAfterSwap", (event) => {
  const element = (event.detail && event.detail.target) || event.target;
  if (!element || element.id !== "map-area") return;
  shown = null; // a new drawing, with the server's viewBox
  zoomControls();
  apply();
  element.dispatchEvent(new CustomEvent("podpath:map-redrawn"));
});

function init() {
  if (!area()) return;
  zoomControls();
  document.addEventListener("click", onTap, true);
  document.addEventListener("focusin", onFocus);
  // A new trace: the camera follows its packet, even from the whole map.
  document.addEventListener("podpath:trace-attached", () => {
    if (!whole) return;
    whole = false;
    phoneLabel();
  });
  if (phoneQuery && phoneQuery.addEventListener) phoneQuery.addEventListener("change", onLayout);
  // Only a new width changes the window (a phone's address bar changes the height as it
  // scrolls, and the map must not jump then).
  let width = window.innerWidth;
  window.addEventListener("resize", () => {
    if (window.innerWidth === width) return;
    width = window.innerWidth;
    if (isPhone()) phoneShow(false);
  });
  // A trace attached before this module ran: let its player point the camera at its hop.
  if (isPhone()) document.dispatchEvent(new CustomEvent("podpath:camera-ready"));
}

window.podpathMap = { focus, overview, zoom: zoomBy, level: () => level, whole: setWhole, isPhone };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
