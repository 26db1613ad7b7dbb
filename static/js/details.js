// Click (or Enter on) a pod, Service, node or Gateway on the map to open its details in the panel.
// The map is redrawn by htmx, so the listener sits on the document, not on the SVG.
const KINDS = new Set(["Pod", "Service", "Node", "Gateway"]);

function target(event) {
  const element = event.target.closest && event.target.closest("svg.cluster-map [data-kind]");
  return element && KINDS.has(element.dataset.kind) ? element : null;
}

function open(element) {
  const sandbox = document.querySelector(".sandbox[data-workspace]");
  if (!sandbox || !window.htmx) return;
  const { kind, namespace, name } = element.dataset;
  const url = `/w/${sandbox.dataset.workspace}/objects/${kind}/${namespace || "-"}/${name}`;
  // The details go in the panel: unfold it if the stage had folded it away.
  if (window.podpathStage && !window.podpathStage.isOpen()) window.podpathStage.setOpen(true);
  window.htmx.ajax("GET", url, { target: "#panel" });
}

document.addEventListener("click", (event) => {
  const element = target(event);
  if (element) open(element);
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  const element = target(event);
  if (element) {
    event.preventDefault();
    open(element);
  }
});
