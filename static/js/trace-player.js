// The packet-trace player: moves a packet marker over the cluster map (svg.cluster-map) hop
// by hop, and keeps the hop list, the live region and the packet headers of one
// templates/_trace.html result in step with it. Each hop is drawn on the map element that
// does it (its "at", a data-at on the map) and lights the boxes it names ("lit": the Service
// whose address is the destination, the Ingress rules). When the whole map is too small to
// read (always on a phone), the map's camera (static/js/map.js) follows the packet. No
// dependencies, no build step.
//
// State lives on the root element too (data-current-hop, data-playing) so tests and other
// scripts can read it without reaching into this module.

const SVG_NS = "http://www.w3.org/2000/svg";
const MOVE_MS = 520; // the marker's travel time per hop at 1x ...
const DWELL_MS = 180; // ... plus a short rest on the device: ~700 ms a hop when playing
const STOP_ACTIONS = new Set(["drop", "reject"]);

// Only one trace is on the map at a time; the last attached player owns the keyboard.
const players = [];
let keysBound = false;

const reducedMotion = () =>
  window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

function svgEl(name, attrs) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  return el;
}

// The marker: every shape is drawn once and shown or hidden per hop, so a hop change never
// rebuilds DOM in the middle of an animation.
function makeMarker() {
  const g = svgEl("g", { class: "trace-marker", "aria-hidden": "true", "pointer-events": "none" });
  g.append(
    svgEl("circle", { class: "trace-marker-shell", r: 15, fill: "none", stroke: "#7a3e00", "stroke-width": 3, "stroke-dasharray": "5 3" }),
    svgEl("circle", { class: "trace-marker-core", r: 8, fill: "#d9480f", stroke: "#fff", "stroke-width": 2 }),
    svgEl("rect", { class: "trace-marker-dns", x: -7, y: -7, width: 14, height: 14, transform: "rotate(45)", fill: "#5f3dc4", stroke: "#fff", "stroke-width": 2 }),
  );
  return g;
}

function makeCross(x, y) {
  const g = svgEl("g", { class: "trace-fail-mark", transform: `translate(${x} ${y})`, "pointer-events": "none" });
  g.append(
    svgEl("circle", { r: 20, fill: "#fff", stroke: "#a40e26", "stroke-width": 3 }),
    svgEl("path", { d: "M-9 -9 L9 9 M9 -9 L-9 9", stroke: "#a40e26", "stroke-width": 4.5, "stroke-linecap": "round" }),
  );
  const title = svgEl("title");
  title.textContent = "The packet stopped here";
  g.append(title);
  return g;
}

export function attach(root) {
  if (!root || root.dataset.traceAttached) return null;
  const dataEl = root.querySelector('script[type="application/json"]');
  if (!dataEl) return null;
  const data = JSON.parse(dataEl.textContent);
  const trace = data.trace || {};
  const marks = data.marks || {};
  const steps = [...(trace.hops || []), ...(trace.reply || [])];
  const places = [...(marks.hops || []), ...(marks.reply || [])];
  const coords = places.map((m) => m && m.point);
  if (!steps.length) return null;
  root.dataset.traceAttached = "true";

  // A new trace replaces the old one on the map.
  for (const other of players.splice(0)) other.destroy();

  const items = [...root.querySelectorAll("li[data-hop]")];
  const panels = [...root.querySelectorAll("[data-hop-panel]")];
  const live = root.querySelector("[data-live]");
  const playLabel = root.querySelector("[data-play-label]");
  const playIcon = root.querySelector("[data-play-icon]");
  const speedSelect = root.querySelector("select[data-speed]");
  const stepNow = root.querySelector("[data-step-now]");
  const inspector = root.querySelector(".trace-inspector");

  let current = 0;
  let playing = false;
  let speed = Number(speedSelect && speedSelect.value) || 1;
  let pos = null; // the marker's [x, y] now
  let anim = null; // {from, to, t0, ms} while the marker travels
  let nextAt = 0; // when playing: the time of the next step
  let frame = 0;
  let marker = null;
  let cross = null;
  let svg = null;

  // The page may re-render the map (htmx swaps it after a change), so the SVG is looked up
  // again whenever it is needed, and the marker moved into the new one.
  function map() {
    if (!svg || !svg.isConnected) {
      // svg.cluster-map is the contract; any SVG holding data-at elements will do.
      const anchor = document.querySelector("svg [data-at]");
      svg = document.querySelector("svg.cluster-map") || (anchor && anchor.ownerSVGElement);
      marker = null;
      cross = null;
    }
    if (svg && (!marker || marker.ownerSVGElement !== svg)) {
      marker = makeMarker();
      svg.append(marker);
    }
    return svg;
  }

  // Where hop i is drawn: the centre of its element on the map as it is now (the page may
  // show more or fewer pods than the map the server placed the trace on), else the server's
  // point, else where the marker already is.
  const pointOf = (i) => {
    const at = (places[i] || {}).at;
    const el = at && svg && svg.isConnected && svg.querySelector(`[data-at="${CSS.escape(at)}"]`);
    // The element's box (its first rect: a pod's tile, a device's box), not its labels.
    const shape = el && (el.querySelector("rect") || el);
    if (shape && shape.getBBox && shape.getScreenCTM && svg.getScreenCTM()) {
      const box = shape.getBBox();
      if (box.width || box.height) {
        // The box is in the shape's own coordinates: bring its centre into the map's.
        const toMap = svg.getScreenCTM().inverse().multiply(shape.getScreenCTM());
        const p = new DOMPoint(box.x + box.width / 2, box.y + box.height / 2).matrixTransform(toMap);
        return [p.x, p.y];
      }
    }
    const p = coords[i];
    return Array.isArray(p) && p.length >= 2 ? [Number(p[0]), Number(p[1])] : pos;
  };

  function placeMarker(p) {
    pos = p;
    if (marker && p) marker.setAttribute("transform", `translate(${p[0].toFixed(1)} ${p[1].toFixed(1)})`);
  }

  function shapeMarker(hop) {
    if (!marker) return;
    const dns = hop.phase === "dns";
    const encap = Boolean(hop.packet && hop.packet.outer);
    marker.querySelector(".trace-marker-dns").setAttribute("display", dns ? "inline" : "none");
    marker.querySelector(".trace-marker-core").setAttribute("display", dns ? "none" : "inline");
    marker.querySelector(".trace-marker-shell").setAttribute("display", encap ? "inline" : "none");
    marker.classList.toggle("is-dns", dns);
    marker.classList.toggle("is-encapsulated", encap);
    marker.classList.toggle("is-reply", hop.phase === "reply");
  }

  function highlightDevice(i) {
    const s = map();
    if (!s) return;
    for (const el of s.querySelectorAll("[data-at].is-current, [data-at].is-lit")) el.classList.remove("is-current", "is-lit");
    const place = places[i] || {};
    const at = place.at || steps[i].at;
    const el = at && s.querySelector(`[data-at="${CSS.escape(at)}"]`);
    if (el) el.classList.add("is-current");
    for (const lit of place.lit || []) {
      const box = s.querySelector(`[data-at="${CSS.escape(lit)}"]`);
      if (box) box.classList.add("is-lit");
    }
  }

  function showCross(hop, i) {
    if (cross) cross.remove();
    cross = null;
    const p = pointOf(i);
    if (STOP_ACTIONS.has(hop.action) && svg && p) {
      cross = makeCross(p[0], p[1]);
      svg.append(cross);
    }
  }

  // Everything except the marker's position: strip, live region, inspector, map highlight.
  function render(i) {
    const hop = steps[i];
    root.dataset.currentHop = String(i);
    items.forEach((li, k) => {
      if (k === i) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
      li.classList.toggle("is-past", k < i);
    });
    panels.forEach((panel) => { panel.hidden = Number(panel.dataset.hopPanel) !== i; });
    if (inspector) inspector.scrollTop = 0;
    if (stepNow) stepNow.textContent = String(i + 1);
    if (live) live.textContent = `Hop ${i + 1} of ${steps.length}, ${hop.action}: ${hop.summary}`;
    // Keep the current hop visible inside the strip without scrolling the whole page.
    const li = items[i];
    const strip = li && li.closest(".hop-strip");
    if (strip && strip.scrollHeight > strip.clientHeight) {
      const top = li.getBoundingClientRect().top - strip.getBoundingClientRect().top + strip.scrollTop;
      const sticky = 40; // the phase heading stuck to the top of the strip covers this much
      if (top < strip.scrollTop + sticky || top + li.offsetHeight > strip.scrollTop + strip.clientHeight) {
        // Room for the hop before it when the hop fits, else the hop's top under the heading.
        const room = strip.clientHeight - sticky - li.offsetHeight;
        strip.scrollTop = Math.max(0, top - sticky - Math.max(0, Math.min(room, strip.clientHeight / 4)));
      }
    }
    map();
    highlightDevice(i);
    shapeMarker(hop);
    showCross(hop, i);
  }

  // The camera keeps the packet in view where the map is too big to read whole.
  function follow(i, smooth) {
    if (window.podpathMap) window.podpathMap.focus(pointOf(i), smooth);
  }

  function setPlaying(on) {
    playing = on;
    root.dataset.playing = String(on);
    if (playLabel) playLabel.textContent = on ? "Pause" : "Play";
    if (playIcon) playIcon.textContent = on ? "❚❚" : "▶";
    if (on) {
      nextAt = performance.now() + DWELL_MS / speed;
      loop();
    }
  }

  function go(i, animate = true) {
    if (i < 0 || i >= steps.length) return;
    const from = pos;
    current = i;
    render(i);
    const to = pointOf(i);
    follow(i, animate);
    if (!animate || !from || !to || reducedMotion()) {
      anim = null;
      placeMarker(to);
    } else {
      anim = { from, to, t0: performance.now(), ms: MOVE_MS / speed };
      loop();
    }
    // A drop or a refusal ends the story: stop there.
    if (STOP_ACTIONS.has(steps[i].action) || i === steps.length - 1) {
      if (playing) setPlaying(false);
    } else if (playing) {
      nextAt = performance.now() + (MOVE_MS + DWELL_MS) / speed;
    }
  }

  // One requestAnimationFrame loop drives both the tween and the playing clock; it stops
  // itself when there is nothing left to do.
  function loop() {
    if (!frame) frame = requestAnimationFrame(tick);
  }
  function tick(now) {
    frame = 0;
    if (!root.isConnected) return destroy();
    if (anim) {
      const t = Math.min(1, (now - anim.t0) / anim.ms);
      const e = t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2; // ease in-out
      map();
      placeMarker([anim.from[0] + (anim.to[0] - anim.from[0]) * e, anim.from[1] + (anim.to[1] - anim.from[1]) * e]);
      if (t >= 1) anim = null;
    }
    if (playing && now >= nextAt) go(current + 1);
    if (anim || playing) loop();
  }

  function togglePlay() {
    if (playing) return setPlaying(false);
    // Play at the end (or on the ✕) starts again from the first hop.
    if (current >= steps.length - 1 || STOP_ACTIONS.has(steps[current].action)) go(0, false);
    setPlaying(true);
  }
  const step = (delta) => { setPlaying(false); go(current + delta); };
  const restart = () => { setPlaying(false); go(0, false); };

  function onClick(event) {
    const hopButton = event.target.closest("[data-hop-index]");
    if (hopButton && root.contains(hopButton)) {
      setPlaying(false);
      go(Number(hopButton.dataset.hopIndex));
      return;
    }
    const button = event.target.closest("button[data-action]");
    if (!button || !root.contains(button)) return;
    const action = button.dataset.action;
    if (action === "play") togglePlay();
    else if (action === "back") step(-1);
    else if (action === "forward") step(1);
    else if (action === "restart") restart();
  }
  const onSpeed = () => { speed = Number(speedSelect.value) || 1; };

  function destroy() {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    playing = false;
    root.removeEventListener("click", onClick);
    root.removeEventListener("toggle", onToggle, true);
    if (speedSelect) speedSelect.removeEventListener("change", onSpeed);
    if (marker) marker.remove();
    if (cross) cross.remove();
    if (svg) for (const el of svg.querySelectorAll("[data-at].is-current, [data-at].is-lit")) el.classList.remove("is-current", "is-lit");
    if (window.podpathMap && !root.isConnected) window.podpathMap.overview();
    const k = players.indexOf(player);
    if (k >= 0) players.splice(k, 1);
  }

  root.addEventListener("click", onClick);
  if (speedSelect) speedSelect.addEventListener("change", onSpeed);
  // "Why this hop?" opened at the foot of the headers: bring what it says into view there.
  const onToggle = (event) => {
    const why = event.target;
    if (why.matches && why.matches(".pkt-why") && why.open) why.scrollIntoView({ block: "nearest" });
  };
  root.addEventListener("toggle", onToggle, true);

  // After the map is redrawn: draw the marker, the highlight and the ✕ again where they were.
  const refresh = () => { render(current); placeMarker(pointOf(current)); follow(current, false); };

  const player = { root, togglePlay, step, restart, go, refresh, destroy };
  players.push(player);
  bindKeys();
  document.dispatchEvent(new CustomEvent("podpath:trace-attached", { detail: { root } }));
  go(0, false);
  setPlaying(false);
  if (root.dataset.autoplay === "true") togglePlay();
  return player;
}

// Space, arrows, PageUp/PageDown (what presentation clickers send) and Home, anywhere on the
// page except where typing or choosing is going on.
function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
  const player = players[players.length - 1];
  if (!player || !player.root.isConnected) return;
  const t = event.target;
  if (t && t.closest && t.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])")) return;
  const key = event.key;
  const space = key === " " || key === "Spacebar";
  if (t && t.closest) {
    // Space on a control outside the trace (Undo, a menu, the panel's toggle) presses it; on
    // the trace and its bar (Trace it has focus right after a click) it plays or pauses.
    if (space && t.closest("button, summary, a") && !t.closest("[data-trace-player], #trace-bar")) return;
    // The arrows scroll a table or the rules the learner focused in the panel.
    if (!space && t.closest("#panel [role=region], #panel pre, #panel [tabindex]")) return;
  }
  // Space means play/pause even on a focused button of the trace (the hop just clicked, say):
  // preventing the keydown keeps the button from also activating; Enter still presses it.
  if (key === " " || key === "Spacebar") player.togglePlay(); else if (key === "ArrowRight" || key === "PageDown") player.step(1);
  else if (key === "ArrowLeft" || key === "PageUp") player.step(-1);
  else if (key === "Home") player.restart();
  else return;
  event.preventDefault();
}

function bindKeys() {
  if (keysBound) return;
  keysBound = true;
  document.addEventListener("keydown", onKey);
}

export function attachAll(scope = document) {
  const roots = scope.matches && scope.matches("[data-trace-player]") ? [scope] : [];
  roots.push(...scope.querySelectorAll("[data-trace-player]"));
  for (const root of roots) if (!root.dataset.traceAttached) attach(root);
}

window.podpathTracePlayer = { attach, attachAll };
// The map's phone camera came up after a trace attached: point it at the current hop.
document.addEventListener("podpath:camera-ready", () => {
  for (const p of players) if (p.root.isConnected) p.refresh();
});
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => attachAll());
else attachAll();
document.addEventListener("htmx:afterSwap", () => {
  // A swap may have removed the trace (its marker goes too) or redrawn the map.
  for (const p of [...players]) if (p.root.isConnected) p.refresh(); else p.destroy();
  attachAll();
});
