// The live classroom on a sandbox page.
//
// The teacher's page tells the class which hop of its trace is on screen, as the teacher
// steps (the trace player marks it in data-current-hop). A student's page, while following,
// shows the same hop of the same trace run on the student's own cluster: it hears the hop
// over the class's event stream (htmx's SSE extension) and after each catch-up.

const teacher = () => document.querySelector("[data-class-teacher]");
const following = () => document.querySelector('[data-following="true"]');

function goToHop(index) {
  const root = document.querySelector("#trace-result [data-trace-player]");
  const button = root && root.querySelector(`[data-hop-index="${index}"]`);
  if (button) button.click();
}

// --- the teacher's side ---------------------------------------------------------------------
let sentHop = null;
let hopTimer = 0;
function reportHop(player) {
  const bar = teacher();
  const traceMark = document.querySelector("#trace-result [data-class-trace]");
  if (!bar || !traceMark) return;
  const hop = player.dataset.currentHop;
  const key = `${traceMark.dataset.classTrace}:${hop}`;
  if (key === sentHop) return;
  clearTimeout(hopTimer);
  hopTimer = setTimeout(() => {
    sentHop = key;
    const body = new FormData();
    body.set("trace", traceMark.dataset.classTrace);
    body.set("hop", hop);
    fetch(`/classes/${bar.dataset.classTeacher}/hop`, { method: "POST", body, credentials: "same-origin" });
  }, 150);
}
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.attributeName === "data-current-hop" && change.target.matches("[data-trace-player]")) reportHop(change.target);
  }
}).observe(document.documentElement, { attributes: true, subtree: true, attributeFilter: ["data-current-hop"] });

// --- the student's side ---------------------------------------------------------------------
let heardHop = null; // the newest hop heard: {trace, hop}, kept for the next catch-up
document.body.addEventListener("htmx:sseMessage", (event) => {
  const message = event.detail;
  if (!message || message.type !== "hop" || !following()) return;
  const data = JSON.parse(message.data);
  heardHop = data;
  const mark = document.querySelector("[data-follow-trace]");
  if (mark && mark.dataset.followTrace === String(data.trace)) goToHop(data.hop);
});

// The teacher moved (a step, a trace, a new starting point): catch up. A whole class hears
// the move at the same moment, so each page waits a random part of the spread the server
// gives (wider for a bigger class) before it asks: the server answers a lecture hall
// over a second instead of all at once. Moves heard while waiting are caught up with it.
let catchUpTimer = 0;
document.body.addEventListener("htmx:sseMessage", (event) => {
  const message = event.detail;
  if (!message || !["step", "trace", "state"].includes(message.type) || !following()) return;
  if (catchUpTimer) return;
  let spread = 0;
  try {
    spread = Number(JSON.parse(message.data || "{}").spread) || 0;
  } catch (_) {
    spread = 0;
  }
  catchUpTimer = setTimeout(() => {
    catchUpTimer = 0;
    const sync = document.querySelector("[data-follow-sync]");
    if (sync && following()) htmx.trigger(sync, "follow-teacher");
  }, Math.random() * spread);
});

// A catch-up names the teacher's trace the page shows already: the answer then leaves it.
document.body.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.elt.matches("[data-follow-sync]")) return;
  const shown = document.querySelector("#trace-result [data-followed-trace]");
  event.detail.parameters.shown_trace = shown ? shown.dataset.followedTrace : "";
});

document.body.addEventListener("htmx:afterSettle", () => {
  const mark = document.querySelector("[data-follow-hop]:not([data-done])");
  if (mark) {
    mark.dataset.done = "true";
    // The answer knows the hop as of its making; a hop heard since is newer.
    let hop = Number(mark.dataset.followHop);
    if (heardHop && String(heardHop.trace) === mark.dataset.followTrace) hop = heardHop.hop;
    goToHop(hop);
  }
  // Keep the three newest hints.
  const hints = document.querySelectorAll("#class-hints .class-hint");
  for (const old of [...hints].slice(3)) old.remove();
});
