// The lesson panel: "Reveal the answer" on quiz questions, and, in presentation mode, the
// next and previous step from the keyboard or a clicker (PageDown / PageUp, which is what
// presentation clickers send; N and B too). Runs before the trace player's keys (capture
// phase) so a clicker moves the lesson, not the packet; the arrow keys still step the trace.

function onClick(event) {
  const button = event.target.closest && event.target.closest("[data-reveal]");
  if (!button) return;
  const question = button.closest(".quiz-question");
  const open = question.classList.toggle("revealed");
  button.textContent = open ? "Hide the answer" : "Reveal the answer";
}

// One step change at a time: a clicker pressed twice quickly moves twice, in order. The
// request goes through htmx.ajax (not a click on the swapped-in button, which htmx may not
// have taken over yet, so the browser would submit the form itself).
let busy = false;
let queued = 0;

function move(direction) {
  const button = document.querySelector(direction > 0 ? "[data-lesson-next]" : "[data-lesson-prev]");
  if (!button || button.disabled) return false;
  if (busy) {
    queued = direction;
    return true;
  }
  const form = button.closest("form");
  busy = true;
  window.htmx.ajax("POST", form.getAttribute("action"), {
    source: form,
    target: "#lesson",
    values: { step: form.querySelector("input[name=step]").value },
  });
  return true;
}

function settled(event) {
  if (!event.detail || !event.detail.target || event.detail.target.id !== "lesson") return;
  busy = false;
  if (queued) {
    const direction = queued;
    queued = 0;
    move(direction);
  }
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
  if (!document.body.classList.contains("present") || !document.getElementById("lesson")) return;
  const t = event.target;
  if (t && t.closest && t.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])")) return;
  let moved = false;
  if (event.key === "PageDown" || event.key === "n" || event.key === "N") moved = move(1);
  else if (event.key === "PageUp" || event.key === "b" || event.key === "B") moved = move(-1);
  else return;
  event.preventDefault(); // even at the first or last step: the trace player must not step
  event.stopPropagation();
  return moved;
}

function focusStep(event) {
  // After a step change, put keyboard focus on the new step's title (screen readers hear it).
  if (!event.detail || !event.detail.target || event.detail.target.id !== "lesson") return;
  const title = document.querySelector("#lesson h3");
  const active = document.activeElement;
  if (active && active !== document.body && !active.closest("#lesson")) return; // typing elsewhere
  if (title) {
    title.setAttribute("tabindex", "-1");
    title.focus({ preventScroll: true });
  }
}

document.addEventListener("click", onClick);
window.addEventListener("keydown", onKey, true);
document.addEventListener("htmx:afterSettle", focusStep);
document.addEventListener("htmx:afterSettle", settled);
document.addEventListener("htmx:responseError", () => { busy = false; queued = 0; });
document.addEventListener("htmx:sendError", () => { busy = false; queued = 0; });

// After Check, a hint or Show me, bring what changed into view; after a step change or a
// lesson started (its Start button, the next lesson), the step's beginning (the page, or in
// presentation mode the panel, may be scrolled far down).
function bringIntoView(event) {
  if (!event.detail || !event.detail.target || event.detail.target.id !== "lesson") return;
  const path = (event.detail.requestConfig && event.detail.requestConfig.path) || "";
  const behavior = window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  const panel = document.getElementById("lesson");
  if (/\/(check|show)$/.test(path)) {
    const box = panel.querySelector(".task");
    if (box) box.scrollIntoView({ block: "nearest", behavior });
  } else if (/\/hint$/.test(path)) {
    const hints = panel.querySelector(".hints");
    if (hints) hints.scrollIntoView({ block: "nearest", behavior });
  } else if (/\/(step|start)$/.test(path)) {
    panel.scrollTop = 0;
    if (panel.getBoundingClientRect().top < 0) panel.scrollIntoView({ block: "start", behavior });
  }
}

document.addEventListener("htmx:afterSettle", bringIntoView);
