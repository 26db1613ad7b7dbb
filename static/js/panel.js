// The side panel's behaviour: forms, rules, objects.
// - The Service form shows the fields of the chosen type only (the server ignores the others,
//   so without JavaScript the whole form shows and still works).
// - The Ingress form's spare path rows hide behind an "Add a path" button.
// - A Build form's answer swaps the panel without moving the page: the forms stay open as
//   they were, the window keeps its scroll position, and focus returns to the form's button.
// - New Services, pods and Ingress rules on the redrawn map carry the class is-new.
// - The Rules tab scrolls its first matched rule into view inside its own box; so does the
//   details drawer's YAML with the field a trace's cause points at.

// Service form -------------------------------------------------------------------------------

function serviceForm(form) {
  const type = form.querySelector('select[name="type"]');
  if (!type) return;
  const apply = () => {
    for (const field of form.querySelectorAll("[data-types]")) {
      field.hidden = !field.dataset.types.split(/\s+/).includes(type.value);
    }
  };
  for (const hint of form.querySelectorAll("[data-js-hide]")) hint.hidden = true;
  if (!form.dataset.panelReady) {
    form.dataset.panelReady = "1";
    type.addEventListener("change", apply);
  }
  apply();
}

// Ingress form -------------------------------------------------------------------------------

const isEmpty = (row) => [...row.querySelectorAll("input")].every((i) => !i.value.trim());

function clearRow(row) {
  for (const input of row.querySelectorAll("input")) input.value = "";
  for (const select of row.querySelectorAll("select")) select.selectedIndex = 0;
}

function removeButton(row) {
  if (row.dataset.pathRow === "0" || row.querySelector(".remove-path")) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "remove-path";
  button.textContent = "Remove this path";
  button.setAttribute("aria-label", `Remove path ${Number(row.dataset.pathRow) + 1}`);
  button.addEventListener("click", () => {
    clearRow(row);
    row.hidden = true;
    row.closest("[data-ingress-paths]")?.querySelector("[data-add-path]")?.focus();
  });
  row.append(button);
}

function addRow(fieldset) {
  const rows = [...fieldset.querySelectorAll("[data-path-row]")];
  let row = rows.find((r) => r.hidden);
  if (!row) {
    const last = rows[rows.length - 1];
    const index = Number(last.dataset.pathRow) + 1;
    row = last.cloneNode(true);
    row.dataset.pathRow = String(index);
    row.setAttribute("aria-label", `Path ${index + 1}`);
    row.querySelector(".remove-path")?.remove();
    for (const field of row.querySelectorAll("[name]")) {
      field.name = field.name.replace(/_\d+$/, `_${index}`);
    }
    clearRow(row);
    last.after(row);
  }
  removeButton(row);
  row.hidden = false;
  row.querySelector("input")?.focus();
}

function ingressPaths(fieldset) {
  const add = fieldset.querySelector("[data-add-path]");
  if (!add || fieldset.dataset.panelReady) return;
  fieldset.dataset.panelReady = "1";
  for (const row of fieldset.querySelectorAll("[data-path-row]")) {
    if (row.dataset.pathRow !== "0" && isEmpty(row)) row.hidden = true;
    else removeButton(row);
  }
  add.hidden = false;
  add.addEventListener("click", () => addRow(fieldset));
}

// Rules tab ----------------------------------------------------------------------------------

// Scrolls the box (never the page) so its first matched line sits a third of the way down.
function rulesBox(box) {
  const hit = box.querySelector(".hit");
  if (!hit) return;
  const top = hit.offsetTop - box.clientHeight / 3;
  box.scrollTop = Math.max(0, top);
}

// Details: a trace's cause opened the YAML at a field (?field=). Its first line sits a third of
// the way down its box, and the box scrolls into the window (or the panel) where it is not.
function yamlHit(box) {
  const hit = box.querySelector("#yaml-hit");
  if (!hit) return;
  rulesBox(box);
  // The whole box where it fits (the line in its upper third), else at least the line.
  box.scrollIntoView({ block: "nearest", inline: "nearest" });
  hit.scrollIntoView({ block: "nearest", inline: "nearest" });
}

function enhance(root) {
  for (const form of root.querySelectorAll("form[data-service-form]")) serviceForm(form);
  for (const fieldset of root.querySelectorAll("[data-ingress-paths]")) ingressPaths(fieldset);
  for (const box of root.querySelectorAll("pre.rules")) rulesBox(box);
  for (const box of root.querySelectorAll("pre.yaml-lines")) yamlHit(box);
}

// A Build form's answer: keep the page still ------------------------------------------------

let kept = null;

const buildForm = (element) =>
  element && element.closest ? element.closest(".build-forms form") : null;

document.addEventListener("htmx:beforeSwap", (event) => {
  // htmx fires beforeSwap on the element that made the request (requestConfig.elt too).
  const { target, requestConfig } = event.detail;
  const form = buildForm((requestConfig && requestConfig.elt) || event.target);
  if (!target || target.id !== "panel") return;
  if (target.dataset.roomAdded) {
    target.style.paddingBottom = "";
    delete target.dataset.roomAdded;
  }
  if (!form) return;
  const details = [...target.querySelectorAll("details.build-form")];
  // The panel and whatever holds it may scroll on their own (a side panel of its own height).
  const scrollers = [];
  for (let box = target; box && box !== document.documentElement; box = box.parentElement) {
    scrollers.push([box, box.scrollTop, box.scrollLeft]);
  }
  kept = {
    x: window.scrollX,
    y: window.scrollY,
    scrollers,
    open: details.map((d) => d.open),
    action: form.getAttribute("action"),
    formIndex: details.indexOf(form.closest("details.build-form")),
    anchor: form.getBoundingClientRect().top,
  };
});

document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "panel") return;
  enhance(target);
  if (!kept) return;
  const { x, y, scrollers, open, action, formIndex, anchor } = kept;
  kept = null;
  const details = [...target.querySelectorAll("details.build-form")];
  if (details.length === open.length) {
    details.forEach((d, i) => {
      // As the learner left them, and the answered form open (its Done or its errors).
      d.open = open[i] || i === formIndex;
    });
  }
  const again = target.querySelector(`.build-forms form[action="${CSS.escape(action)}"]`);
  const focus = again?.querySelector('button[type="submit"]') || details[formIndex]?.querySelector("summary");
  focus?.focus({ preventScroll: true });
  for (const [box, top, left] of scrollers) {
    if (box.scrollTop !== top) box.scrollTop = top;
    if (box.scrollLeft !== left) box.scrollLeft = left;
  }
  if (window.scrollX !== x || window.scrollY !== y) window.scrollTo(x, y);
  // What was above the form may have changed height (the last form's Done went): scroll the
  // panel (or what holds it) by as much, so the answered form stays where the learner saw it.
  const top = again?.getBoundingClientRect().top;
  let shift = top === undefined ? 0 : Math.round(top - anchor);
  const scrollBy = () => {
    for (const box of [...scrollers.map(([b]) => b), document.scrollingElement]) {
      if (!shift) break;
      const was = box.scrollTop;
      box.scrollTop = was + shift;
      shift -= box.scrollTop - was;
    }
  };
  scrollBy();
  if (shift > 0) {
    // Too little below to scroll that far: room at the panel's foot, until the next answer.
    const pad = parseFloat(getComputedStyle(target).paddingBottom) || 0;
    target.style.paddingBottom = `${pad + shift}px`;
    target.dataset.roomAdded = "1";
    scrollBy();
  }
});

// New objects on the map --------------------------------------------------------------------

const MAP_KINDS = '[data-kind="Pod"], [data-kind="Service"], [data-kind="IngressController"], [data-kind="Ingress"], [data-kind="Gateway"]';

// What an element on the map stands for; an Ingress box also by the rules it lists, so a new
// Ingress lights up the box that now shows its routes.
function mapKey(element) {
  const { kind, namespace = "", name = "" } = element.dataset;
  let key = `${kind}/${namespace}/${name}`;
  if (kind === "IngressController" || kind === "Ingress" || kind === "Gateway") {
    const rules = [...element.querySelectorAll(".ingress-rule")].map((r) => r.textContent.trim());
    const title = element.querySelector("title")?.textContent || "";
    key += `|${rules.join(";")}|${title}`;
  }
  return key;
}

const mapArea = (event) => {
  const element = (event.detail && event.detail.target) || event.target;
  return element && element.id === "map-area" ? element : null;
};

let onMap = null;

document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const area = mapArea(event);
  if (area) onMap = new Set([...area.querySelectorAll(MAP_KINDS)].map(mapKey));
});

document.addEventListener("htmx:oobAfterSwap", (event) => {
  const area = mapArea(event);
  if (!area || !onMap) return;
  const before = onMap;
  onMap = null;
  for (const element of area.querySelectorAll(MAP_KINDS)) {
    if (!before.has(mapKey(element))) element.classList.add("is-new");
  }
});

// Start -------------------------------------------------------------------------------------

function init() {
  const panel = document.getElementById("panel");
  if (panel) enhance(panel);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
