// The sandbox page keeps up with changes made elsewhere: the real kubectl against this
// workspace, another tab, a script using the API. The server tells the page the tag of each
// new state of its objects (app/web/live); when the page does not show that state, it asks
// for the parts that draw the cluster. The page's own changes (a form, the Terminal) come
// back with their answer, which usually lands before the stream's word of them: a short wait
// lets it land, and then there is nothing to redraw.

const root = document.querySelector(".sandbox[data-workspace]");
const shown = () => document.getElementById("objects-tag")?.dataset.tag ?? "";
const SETTLE_MS = 400;

if (root && window.EventSource) {
  const url = () => `/w/${root.dataset.workspace}/changes?shown=${encodeURIComponent(shown())}`;
  let timer = 0;
  let heard = "";
  let source = null;

  const redraw = () => {
    const form = document.getElementById("live-redraw");
    if (!form || heard === shown()) return;
    form.elements.shown.value = shown();
    htmx.trigger(form, "podpath:redraw");
  };

  const open = () => {
    source = new EventSource(url());
    source.addEventListener("changed", (event) => {
      heard = event.data;
      clearTimeout(timer);
      timer = setTimeout(redraw, SETTLE_MS);
    });
    // The browser reconnects by itself, with the URL it first had; after a long break
    // (a laptop asleep) start again, saying what the page shows now.
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) setTimeout(open, 5000);
    });
  };
  open();
  window.addEventListener("pagehide", () => source && source.close());
}
