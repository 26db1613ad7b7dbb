// A NetworkPolicy hovered, focused or picked in the Reachability tab lights its pods on the
// map: the pods it isolates (solid outline) and the pods its rules name as peers (dashed),
// the others fade. Picking (click, Enter) keeps it lit until picked again. Without
// JavaScript the list still says, in words, what each policy isolates and allows.

const map = () => document.querySelector(".podmap");
let pinned = null;

const clear = () => {
  const svg = map();
  if (!svg) return;
  svg.classList.remove("policy-lit");
  svg.querySelectorAll(".policy-target, .policy-peer").forEach((el) =>
    el.classList.remove("policy-target", "policy-peer"));
};

const light = (item) => {
  clear();
  const svg = map();
  if (!svg || !item) return;
  const mark = (list, cls) => (list || "").split(" ").filter(Boolean).forEach((at) => {
    svg.querySelectorAll(`[data-at="${CSS.escape(at)}"]`).forEach((el) => el.classList.add(cls));
  });
  mark(item.dataset.targets, "policy-target");
  mark(item.dataset.peers, "policy-peer");
  svg.classList.add("policy-lit");
};

const itemOf = (event) => event.target.closest?.(".policy-item");

document.addEventListener("mouseover", (event) => { const item = itemOf(event); if (item) light(item); });
document.addEventListener("focusin", (event) => { const item = itemOf(event); if (item) light(item); });
const leave = (event) => {
  const item = itemOf(event);
  if (item && !item.contains(event.relatedTarget)) light(pinned);
  if (!pinned && item) clear();
};
document.addEventListener("mouseout", leave);
document.addEventListener("focusout", leave);
document.addEventListener("click", (event) => {
  const item = itemOf(event);
  if (!item) return;
  const on = item.getAttribute("aria-pressed") !== "true";
  document.querySelectorAll(".policy-item[aria-pressed='true']").forEach((b) => b.setAttribute("aria-pressed", "false"));
  item.setAttribute("aria-pressed", on ? "true" : "false");
  pinned = on ? item : null;
  if (pinned) light(pinned); else clear();
});
// The panel or the map redrawn (a change, another tab): light the picked policy again.
document.addEventListener("htmx:afterSettle", () => {
  if (!pinned) return;
  const again = document.querySelector(`.policy-item[data-policy="${CSS.escape(pinned.dataset.policy)}"]`);
  pinned = again;
  if (again) { again.setAttribute("aria-pressed", "true"); light(again); } else clear();
});

// The NetworkPolicy form: empty spare rules and peers wait behind "Add" buttons (without
// JavaScript they are simply shown, and the server skips the empty ones).
const empty = (el) => [...el.querySelectorAll("input:not([type=checkbox]), select")].every((f) => !f.value)
  && ![...el.querySelectorAll("input[type=checkbox]")].some((f) => f.checked);

const tidy = (form) => {
  form.querySelectorAll("[data-np-rules]").forEach((box) => {
    const rules = [...box.querySelectorAll(":scope > [data-np-rule]")];
    rules.forEach((rule, i) => {
      const peers = [...rule.querySelectorAll("[data-np-peer]")];
      peers.forEach((peer, j) => {
        if (j > 0 && empty(peer)) {
          peer.hidden = true;
          const sep = peer.previousElementSibling;
          if (sep?.matches("[data-np-peer-sep]")) sep.hidden = true;
        }
      });
      rule.querySelector("[data-np-add=peer]").hidden = !peers.some((p) => p.hidden);
      if (i > 0 && empty(rule)) rule.hidden = true;
    });
    box.querySelector(":scope > [data-np-add=rule]").hidden = !rules.some((r) => r.hidden);
  });
};

const prepare = (root) => root.querySelectorAll?.("[data-np-form]").forEach((form) => {
  form.querySelectorAll("[data-np-remove]").forEach((b) => { b.hidden = false; });
  tidy(form);
});

// Remove: the row's boxes emptied (the server skips an empty row) and, past the first, hidden.
document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-np-remove]");
  if (!button) return;
  const row = button.closest(button.dataset.npRemove === "peer" ? "[data-np-peer]" : "[data-np-rule]");
  row.querySelectorAll("input:not([type=checkbox])").forEach((f) => { f.value = ""; });
  row.querySelectorAll("select").forEach((f) => { f.selectedIndex = 0; });
  row.querySelectorAll("input[type=checkbox]").forEach((f) => { f.checked = false; });
  const form = row.closest("[data-np-form]");
  const siblings = button.dataset.npRemove === "peer"
    ? [...row.closest("[data-np-rule]").querySelectorAll("[data-np-peer]")]
    : [...row.closest("[data-np-rules]").querySelectorAll(":scope > [data-np-rule]")];
  if (siblings.indexOf(row) > 0) {
    row.hidden = true;
    const sep = row.previousElementSibling;
    if (sep?.matches("[data-np-peer-sep]")) sep.hidden = true;
  }
  tidy(form);
  (row.hidden ? form.querySelector("[data-np-add]:not([hidden])") : row.querySelector("select, input"))?.focus();
});
prepare(document);
// Only a form just drawn: a redraw elsewhere (the map) keeps the rows the learner opened.
document.addEventListener("htmx:afterSettle", (event) => prepare(event.target));
document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-np-add]");
  if (!button) return;
  const within = button.dataset.npAdd === "peer" ? button.closest("[data-np-rule]") : button.closest("[data-np-rules]");
  const selector = button.dataset.npAdd === "peer" ? "[data-np-peer][hidden]" : ":scope > [data-np-rule][hidden]";
  const next = within.querySelector(selector);
  if (!next) return;
  next.hidden = false;
  const sep = next.previousElementSibling;
  if (sep?.matches("[data-np-peer-sep]")) sep.hidden = false;
  next.querySelector("select, input")?.focus();
  button.hidden = !within.querySelector(selector);
});

// An open cell's card goes beside its cell (below it, or above when there is no room),
// kept inside the window; one card open at a time.
document.addEventListener("toggle", (event) => {
  const details = event.target;
  if (!(details instanceof HTMLDetailsElement) || !details.closest(".reach-matrix")) return;
  if (!details.open) return;
  document.querySelectorAll(".reach-matrix details[open]").forEach((d) => { if (d !== details) d.open = false; });
  const card = details.querySelector(".cell-detail");
  const cell = details.closest("td").getBoundingClientRect();
  const box = card.getBoundingClientRect();
  const left = Math.max(8, Math.min(cell.left + cell.width / 2 - box.width / 2, innerWidth - box.width - 8));
  const below = cell.bottom + 6;
  const top = below + box.height < innerHeight - 8 ? below : Math.max(8, cell.top - box.height - 6);
  Object.assign(card.style, { left: `${left}px`, top: `${top}px`, right: "auto", bottom: "auto" });
}, true);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = document.querySelector(".reach-matrix details[open]");
  if (open) { open.open = false; open.querySelector("summary").focus(); }
});
