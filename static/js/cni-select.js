// The CNI select steers the kube-proxy select: Cilium comes with its eBPF replacing
// kube-proxy (as Cilium's quick start installs it), and another plugin needs kube-proxy back.
// The forms work without this: the server reads both selects (app/web/cni_form.py).
const remembered = new WeakMap();

function steer(form) {
  const cni = form.querySelector('select[name="cni"]');
  const proxy = form.querySelector('select[name="proxy_mode"]');
  if (!cni || !proxy) return;
  const ebpf = proxy.querySelector('option[value="ebpf"]');
  if (!ebpf) return;
  if (proxy.value !== "ebpf") remembered.set(form, proxy.value);
  if (cni.value === "cilium") {
    proxy.value = "ebpf";
  } else if (proxy.value === "ebpf") {
    proxy.value = remembered.get(form) || "iptables";
  }
  ebpf.disabled = cni.value !== "cilium";
}

document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.name === "cni" && target.form) {
    steer(target.form);
  }
});

function init() {
  for (const form of document.querySelectorAll("form")) {
    const cni = form.querySelector('select[name="cni"]');
    const ebpf = form.querySelector('select[name="proxy_mode"] option[value="ebpf"]');
    if (cni && ebpf) ebpf.disabled = cni.value !== "cilium";
  }
}
init();
document.addEventListener("htmx:afterSettle", init);
