"""The CNI and kube-proxy selects of the home page and the sandbox head, read as settings.

The kube-proxy select offers a fourth reading, ``ebpf``: no kube-proxy, Cilium's eBPF does
Services (``kubeProxyReplacement: true``). With Cilium, ``ebpf`` turns the replacement on and
a kube-proxy mode turns it off (kube-proxy runs, in that mode). ``ebpf`` with another plugin
is refused for a new cluster; in the head's switch it means "back to kube-proxy, in the mode
it had".
"""

from __future__ import annotations

from typing import Any

from app.errors import FieldError, InvalidObjects

EBPF = "ebpf"
EBPF_LABEL = "eBPF (Cilium)"


def new_cluster_choices(cni: str, proxy_mode: str, routing_mode: str) -> dict[str, Any]:
    """The ClusterConfig choices of the home page's form.

    >>> new_cluster_choices("cilium", "ebpf", "tunnel")["kube_proxy_replacement"]
    True
    >>> new_cluster_choices("cilium", "nftables", "native")["proxy_mode"]
    'nftables'
    """
    if proxy_mode == EBPF and cni != "cilium":
        raise InvalidObjects(
            "the cluster settings are invalid",
            [
                FieldError(
                    "proxy_mode",
                    f'Forbidden: only Cilium replaces kube-proxy with eBPF; "{cni}" needs '
                    "kube-proxy: choose iptables, nftables or ipvs",
                )
            ],
        )
    choices: dict[str, Any] = {"cni": cni, "kube_proxy_replacement": proxy_mode == EBPF}
    if proxy_mode != EBPF:
        choices["proxy_mode"] = proxy_mode
    if cni == "cilium":
        choices["routing_mode"] = routing_mode
    return choices


def switch_choices(cni: str | None, proxy_mode: str | None) -> dict[str, Any]:
    """The :func:`app.cluster.rebuild.switch` arguments of the head's form.

    >>> switch_choices("flannel", "ebpf")
    {'cni': 'flannel', 'proxy_mode': None, 'kube_proxy_replacement': None}
    >>> switch_choices("cilium", "iptables")
    {'cni': 'cilium', 'proxy_mode': 'iptables', 'kube_proxy_replacement': False}
    """
    if proxy_mode == EBPF:
        replace = True if cni == "cilium" else None
        return {"cni": cni, "proxy_mode": None, "kube_proxy_replacement": replace}
    replace = False if cni == "cilium" and proxy_mode else None
    return {"cni": cni, "proxy_mode": proxy_mode, "kube_proxy_replacement": replace}
