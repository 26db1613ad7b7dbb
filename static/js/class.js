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
