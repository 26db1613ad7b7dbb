// The Terminal tab (templates/_terminal.html): what htmx cannot do for a command line.
// Enter runs the line (htmx posts the form and appends the answer to the screen), Shift+Enter
// or an open heredoc adds a line, Up and Down walk the history (kept per sandbox for the
// browser tab), Tab completes commands, kubectl's verbs, resources and flags, and the names
// of the cluster's objects (from the JSON the server sends with every answer), Ctrl+L or
// `clear` clears the screen, Ctrl+C drops the line. The screen is a <pre> of plain text, so
// selecting and copying work as anywhere.

const HISTORY_MAX = 200;

const historyKey = (form) => `podpath-terminal:${form.getAttribute("action")}`;

function loadHistory(form) {
  try {
    return JSON.parse(sessionStorage.getItem(historyKey(form)) || "[]");
  } catch {
    return [];
  }
}

function saveHistory(form, items) {
  try {
    sessionStorage.setItem(historyKey(form), JSON.stringify(items.slice(-HISTORY_MAX)));
  } catch {
    /* private mode: history lives as long as the page */
  }
}

// A heredoc opened (<<WORD) and not yet closed by a line holding only WORD.
function openHeredoc(text) {
  const lines = text.split("\n");
  const match = lines[0].match(/<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?/);
  if (!match) return false;
  return !lines.slice(1).some((line) => line.trim() === match[1]);
}

// The screen and where the shell is, kept for the browser tab: switching tabs or reloading
// brings the terminal back as it was (the server keeps no terminal state).
const screenKey = (form) => `podpath-terminal-screen:${form.getAttribute("action")}`;
const SCREEN_MAX = 200_000;

function saveScreen(form, screen) {
  const fields = {};
  for (const input of form.querySelectorAll("#terminal-session input[type=hidden]")) fields[input.name] = input.value;
  const label = form.querySelector(".terminal-prompt");
  try {
    sessionStorage.setItem(screenKey(form), JSON.stringify({
      screen: screen.innerHTML.slice(-SCREEN_MAX), fields, prompt: label ? label.textContent : "$ ",
    }));
  } catch {
    /* full or private: the terminal starts afresh next time */
  }
}

function restoreScreen(form, screen) {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(screenKey(form)) || "null");
  } catch {
    saved = null;
  }
  if (!saved || screen.querySelector(".term-command")) return; // a fresh answer wins
  const template = document.createElement("template");
  template.innerHTML = saved.screen; // markup this page made itself, escaped by the server
  screen.replaceChildren(template.content);
  for (const [name, value] of Object.entries(saved.fields || {})) {
    const input = form.querySelector(`#terminal-session input[name="${CSS.escape(name)}"]`);
    if (input) input.value = value;
  }
  const label = form.querySelector(".terminal-prompt");
  if (label && saved.prompt) label.textContent = saved.prompt;
}

// `kubectl apply -f -` reads the manifests that follow until Ctrl+D, as kubectl reads stdin.
const READS_STDIN = /^\s*(kubectl|k)\s+(apply|create)\b.*\s(-f|--filename)(\s+|=)-(\s|$)/;
const readsStdin = (text) => READS_STDIN.test(text.split("\n")[0]) && !/<</.test(text.split("\n")[0]);

function completionData() {
  const el = document.getElementById("terminal-complete");
  try {
    return el ? JSON.parse(el.textContent) : null;
  } catch {
    return null;
  }
}

function place(form) {
  const where = form.querySelector('input[name="where"]');
  const value = where ? where.value : "";
  if (value.startsWith("pod/")) return { kind: "pod", name: value.split("/")[2] };
  if (value.startsWith("node/")) return { kind: "node", name: value.split("/")[1] };
  return { kind: "cluster", name: "" };
}

const RESOURCE_NAMES = {
  po: "pods", pod: "pods", pods: "pods", svc: "services", service: "services", services: "services",
  deploy: "deployments", deployment: "deployments", deployments: "deployments",
  rs: "replicasets", replicaset: "replicasets", replicasets: "replicasets",
  no: "nodes", node: "nodes", nodes: "nodes", ns: "namespaces", namespace: "namespaces",
  namespaces: "namespaces", ep: "endpoints", endpoints: "endpoints", ing: "ingresses",
  ingress: "ingresses", ingresses: "ingresses", netpol: "networkpolicies",
  networkpolicy: "networkpolicies", networkpolicies: "networkpolicies",
  gc: "gatewayclasses", gatewayclass: "gatewayclasses", gatewayclasses: "gatewayclasses",
  gtw: "gateways", gateway: "gateways", gateways: "gateways",
  httproute: "httproutes", httproutes: "httproutes", grpcroute: "grpcroutes", grpcroutes: "grpcroutes",
  refgrant: "referencegrants", referencegrant: "referencegrants", referencegrants: "referencegrants",
};

const VALUE_FLAGS = new Set(["-n", "--namespace", "-o", "--output", "-l", "--selector", "-c", "--container", "-f", "--filename"]);

// The words that may come where the caret is: [candidates, the word being completed].
export function candidates(line, data, where) {
  const words = line.split(/\s+/);
  const current = words.pop() || "";
  const before = words.filter((w) => w !== "");
  if (!data) return [[], current];
  if (before.length === 0) return [data.commands[where.kind] || [], current];
  const command = before[0] === "k" ? "kubectl" : before[0];
  if (command === "kubectl" && where.kind === "cluster") {
    const k = data.kubectl;
    const dash = before.indexOf("--");
    if (dash >= 0) {
      return [before.length === dash + 1 ? data.commands.pod : [], current];
    }
    const previous = before[before.length - 1];
    if (["-n", "--namespace"].includes(previous)) return [data.names.namespaces, current];
    if (["-o", "--output"].includes(previous)) return [["wide", "yaml", "json", "name", "jsonpath="], current];
    if (current.startsWith("-")) return [k.flags, current];
    const slash = current.indexOf("/");
    if (slash > 0) {
      const type = RESOURCE_NAMES[current.slice(0, slash)];
      const names = (type && data.names[type]) || [];
      return [names.map((n) => `${current.slice(0, slash + 1)}${n}`), current];
    }
    // The words that are not flags, nor the value of a flag that takes one (-n kube-system).
    const args = [];
    for (let i = 1; i < before.length; i += 1) {
      if (VALUE_FLAGS.has(before[i])) i += 1;
      else if (!before[i].startsWith("-")) args.push(before[i]);
    }
    if (args.length === 0) return [k.verbs, current];
    const verb = args[0];
    if (["exec", "port-forward"].includes(verb)) return [data.names.pods, current];
    if (verb === "debug") return [data.names.nodes.map((n) => `node/${n}`), current];
    if (["scale", "rollout", "expose"].includes(verb) && args.length >= 2 && verb !== "rollout") {
      return [data.names[RESOURCE_NAMES[args[1]]] || [], current];
    }
    if (verb === "rollout" && args.length === 1) return [["restart", "status"], current];
    if (verb === "create" && args.length === 1) return [["deployment", "service", "namespace"], current];
    if (verb === "create" && args[1] === "service" && args.length === 2) {
      return [["clusterip", "nodeport", "loadbalancer", "externalname"], current];
    }
    if (args.length === 1) return [k.resources, current];
    const type = RESOURCE_NAMES[args[1]];
    return [(type && data.names[type]) || [], current];
  }
  if (command === "tcpdump" && where.kind === "node") {
    return [[...(data.interfaces[where.name] || []), "-ni"], current];
  }
  if (["curl", "wget", "nslookup", "dig", "ping", "nc"].includes(command) && !current.startsWith("-")) {
    const scheme = current.match(/^https?:\/\//);
    if (scheme) return [data.names.services.map((n) => `${scheme[0]}${n}`), current];
    return [[...(data.tools[command] || []), ...data.names.services], current];
  }
  return [data.tools[command] || [], current];
}

function commonPrefix(items) {
  if (!items.length) return "";
  let prefix = items[0];
  for (const item of items) while (!item.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

function escapeText(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span.innerHTML;
}

function attach(root) {
  if (root.dataset.terminalAttached) return;
  root.dataset.terminalAttached = "true";
  const form = root.querySelector("form.terminal-line");
  const input = root.querySelector("textarea[name=line]");
  const screen = root.querySelector(".terminal-screen");
  if (!form || !input || !screen) return;
  const history = loadHistory(form);
  restoreScreen(form, screen);
  let position = history.length;
  let draft = "";
  let lastTab = "";

  const fit = () => {
    input.rows = Math.min(Math.max(input.value.split("\n").length, 1), 12);
  };
  const toBottom = () => {
    screen.scrollTop = screen.scrollHeight;
  };
  const promptText = () => {
    const label = form.querySelector(".terminal-prompt");
    return label ? label.textContent : "$ ";
  };
  const print = (html) => {
    screen.insertAdjacentHTML("beforeend", html);
    toBottom();
  };

  const submit = () => {
    const line = input.value;
    if (line.trim()) {
      if (history[history.length - 1] !== line) history.push(line);
      saveHistory(form, history);
    }
    position = history.length;
    draft = "";
    if (line.trim() === "clear") {
      screen.textContent = "";
      saveScreen(form, screen);
      input.value = "";
      fit();
      return;
    }
    form.requestSubmit();
  };

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      if (openHeredoc(input.value) || readsStdin(input.value)) return; // a line of its input
      event.preventDefault();
      submit();
    } else if (event.key === "d" && event.ctrlKey) {
      // Ctrl+D: the end of the input kubectl apply -f - was reading.
      event.preventDefault();
      if (input.value.trim()) submit();
    } else if (event.key === "ArrowUp" && !input.value.slice(0, input.selectionStart).includes("\n")) {
      if (position === 0) return;
      event.preventDefault();
      if (position === history.length) draft = input.value;
      position -= 1;
      input.value = history[position];
      fit();
    } else if (event.key === "ArrowDown" && !input.value.slice(input.selectionEnd).includes("\n")) {
      if (position >= history.length) return;
      event.preventDefault();
      position += 1;
      input.value = position === history.length ? draft : history[position];
      fit();
    } else if (event.key === "Tab" && !event.shiftKey) {
      const before = input.value.slice(0, input.selectionStart);
      // On an empty line (or in a heredoc) Tab moves the focus on, so the keyboard never traps.
      if (before.includes("\n") || !input.value.trim()) return;
      event.preventDefault();
      const [items, word] = candidates(before, completionData(), place(form));
      const matches = [...new Set(items.filter((c) => c.startsWith(word)))];
      if (!matches.length) return;
      const prefix = matches.length === 1 ? `${matches[0]}${matches[0].endsWith("/") || matches[0].endsWith("=") ? "" : " "}` : commonPrefix(matches);
      if (prefix.length > word.length) {
        const after = input.value.slice(input.selectionStart);
        input.value = before.slice(0, before.length - word.length) + prefix + after;
        const caret = before.length - word.length + prefix.length;
        input.setSelectionRange(caret, caret);
        lastTab = "";
      } else if (lastTab === before) {
        // A second Tab lists what could come, as bash does.
        print(`<span class="term-command"><span class="term-prompt">${escapeText(promptText())}</span>${escapeText(input.value)}</span>\n${escapeText(matches.join("  "))}\n`);
      } else {
        lastTab = before;
      }
    } else if (event.key === "l" && event.ctrlKey) {
      event.preventDefault();
      screen.textContent = "";
      saveScreen(form, screen);
    } else if (event.key === "c" && event.ctrlKey && input.selectionStart === input.selectionEnd) {
      event.preventDefault();
      print(`<span class="term-command"><span class="term-prompt">${escapeText(promptText())}</span>${escapeText(input.value)}^C</span>\n`);
      input.value = "";
      fit();
    }
    // Keys typed here are the terminal's: the page's shortcuts (Space, arrows, p, e) wait.
    event.stopPropagation();
  });
  input.addEventListener("input", fit);

  form.addEventListener("htmx:afterRequest", (event) => {
    if (!event.detail.successful) {
      // The server did not answer: keep the line to run again, and say so on the screen.
      print(`<span class="term-note">Podpath: no answer from the server (${escapeText(String(event.detail.xhr ? event.detail.xhr.status : "offline"))}); press Enter to try again.</span>\n`);
      return;
    }
    saveScreen(form, screen);
    input.value = "";
    fit();
    toBottom();
    input.focus();
  });
  screen.addEventListener("click", () => {
    if (!window.getSelection().toString()) input.focus();
  });
  toBottom();
}

function attachAll() {
  for (const root of document.querySelectorAll("[data-terminal]")) attach(root);
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", attachAll);
  else attachAll();
  document.addEventListener("htmx:afterSwap", attachAll);
}
