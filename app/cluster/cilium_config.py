"""Cilium's settings on a cluster: which of them apply, and which choices contradict them.

Cilium reads two of Podpath's settings as its Helm chart names them: ``routingMode``
(``tunnel``, VXLAN on UDP 8472, the chart's default; or ``native``) and
``kubeProxyReplacement``. With kube-proxy replacement on, as Cilium's quick start installs it,
no kube-proxy runs (kubeadm skips its addon, kind's ``kubeProxyMode: none``): Cilium's eBPF
programs translate Services. The kube-proxy mode stays in the settings, unused, so that a
switch back to a kube-proxy cluster finds it again.
"""

from __future__ import annotations

from typing import Any

from app.errors import FieldError, InvalidObjects


def replaces_kube_proxy(config: Any) -> bool:
    """Whether Cilium's eBPF replaces kube-proxy on a cluster with this config.

    >>> from app.cluster.state import ClusterConfig
    >>> replaces_kube_proxy(ClusterConfig(cni="cilium")), replaces_kube_proxy(ClusterConfig())
    (True, False)
    >>> replaces_kube_proxy(ClusterConfig(cni="cilium", kube_proxy_replacement=False))
    False
    """
    return config.cni == "cilium" and bool(config.kube_proxy_replacement)


def summary(config: Any) -> dict[str, Any]:
    """The Cilium settings a workspace summary shows (none for another plugin).

    >>> from app.cluster.state import ClusterConfig
    >>> summary(ClusterConfig(cni="cilium"))
    {'routingMode': 'tunnel', 'kubeProxyReplacement': True, 'loadBalancerMode': 'snat'}
    >>> summary(ClusterConfig())
    {}
    """
    if config.cni != "cilium":
        return {}
    return {
        "routingMode": config.routing_mode,
        "kubeProxyReplacement": bool(config.kube_proxy_replacement),
        "loadBalancerMode": config.load_balancer_mode,
    }


def load_balancer_problems(config: Any) -> list[FieldError]:
    """What is wrong with Cilium's ``loadBalancer.mode``: an unknown value, ``dsr`` without
    kube-proxy replacement (the mode belongs to Cilium's own load balancer), or ``dsr`` with
    VXLAN tunnelling (Cilium's "Kubernetes Without kube-proxy" guide: DSR needs native routing,
    or Geneve dispatch, which Podpath does not model).

    >>> from app.cluster.state import ClusterConfig
    >>> load_balancer_problems(ClusterConfig(cni="cilium", routing_mode="native",
    ...                                      load_balancer_mode="dsr"))
    []
    >>> load_balancer_problems(ClusterConfig(cni="cilium", load_balancer_mode="dsr"))[0].field
    'loadBalancerMode'
    >>> load_balancer_problems(ClusterConfig(cni="cilium", routing_mode="native",
    ...                        load_balancer_mode="dsr", kube_proxy_replacement=False))[0].field
    'loadBalancerMode'
    """
    from app.cluster import constants as c

    mode = config.load_balancer_mode
    if mode not in c.CILIUM_LB_MODES:
        listed = ", ".join(f'"{m}"' for m in c.CILIUM_LB_MODES)
        return [
            FieldError(
                "loadBalancerMode", f'Unsupported value: "{mode}": supported values: {listed}'
            )
        ]
    if config.cni == "cilium" and mode == "dsr" and not config.kube_proxy_replacement:
        return [
            FieldError(
                "loadBalancerMode",
                'Invalid value: "dsr": loadBalancer.mode is a setting of Cilium\'s kube-proxy '
                "replacement (docs.cilium.io, Kubernetes Without kube-proxy); with "
                "kubeProxyReplacement: false kube-proxy translates Services and Cilium's "
                "load balancer does not run",
            )
        ]
    if config.cni == "cilium" and mode == "dsr" and config.routing_mode != "native":
        return [
            FieldError(
                "loadBalancerMode",
                'Invalid value: "dsr": Cilium\'s DSR needs routingMode: native (with VXLAN '
                "tunnelling the backend could not answer the client directly)",
            )
        ]
    return []


def check_choices(
    cni: str,
    kube_proxy_replacement: bool,
    *,
    proxy_mode_given: bool,
    replacement_given: bool,
    routing_mode_given: bool,
    load_balancer_mode_given: bool = False,
) -> None:
    """Refuse choices that contradict each other, naming the field as the API server would.

    Parameters
    ----------
    cni : str
        The plugin the cluster will run.
    kube_proxy_replacement : bool
        Whether Cilium replaces kube-proxy (given, or kept from the cluster).
    proxy_mode_given, replacement_given, routing_mode_given, load_balancer_mode_given : bool
        Whether the request named ``proxyMode``, ``kubeProxyReplacement``, ``routingMode``,
        ``loadBalancerMode``.

    Raises
    ------
    InvalidObjects
        A kube-proxy mode asked for while Cilium replaces kube-proxy; kube-proxy replacement
        or a routing mode asked of a plugin other than Cilium.

    Examples
    --------
    >>> check_choices("cilium", True, proxy_mode_given=False, replacement_given=True,
    ...               routing_mode_given=False)
    >>> try:
    ...     check_choices("cilium", True, proxy_mode_given=True, replacement_given=False,
    ...                   routing_mode_given=False)
    ... except InvalidObjects as error:
    ...     print(error.errors[0].field)
    proxyMode
    """
    problems = []
    if cni == "cilium" and kube_proxy_replacement and proxy_mode_given:
        problems.append(
            FieldError(
                "proxyMode",
                "Forbidden: no kube-proxy runs while Cilium replaces it "
                "(kubeProxyReplacement: true); set kubeProxyReplacement: false to choose a "
                "kube-proxy mode",
            )
        )
    if cni != "cilium" and replacement_given and kube_proxy_replacement:
        problems.append(
            FieldError(
                "kubeProxyReplacement",
                f'Forbidden: only Cilium replaces kube-proxy; the cluster runs "{cni}"',
            )
        )
    if cni != "cilium" and routing_mode_given:
        problems.append(
            FieldError(
                "routingMode",
                f'Forbidden: routingMode is a Cilium setting; the cluster runs "{cni}"',
            )
        )
    if cni != "cilium" and load_balancer_mode_given:
        problems.append(
            FieldError(
                "loadBalancerMode",
                f'Forbidden: loadBalancerMode is a Cilium setting; the cluster runs "{cni}"',
            )
        )
    if problems:
        raise InvalidObjects("the cluster settings are invalid", problems)


__all__ = ["check_choices", "replaces_kube_proxy", "summary"]
