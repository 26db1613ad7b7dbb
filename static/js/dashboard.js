// The instructor's dashboard: redraw the board when the class's stream says something moved,
// at most about once a second however many students move, and always after the last move
// (htmx's own throttle would drop a move that came just after another).
const WAIT_MS = 700;
let timer = 0;
document.body.addEventListener("htmx:sseMessage", (event) => {
  const kind = event.detail && event.detail.type;
  if (!["progress", "joined", "following"].includes(kind) || timer) return;
  timer = setTimeout(() => {
    timer = 0;
    const board = document.getElementById("board");
    if (board && window.htmx) window.htmx.trigger(board, "refresh");
  }, WAIT_MS);
});
