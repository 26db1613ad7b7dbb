"""Packet traces: what happens, hop by hop, when a source sends a request to a target.

A trace resolves the name (as the source's resolver would), then walks the packet through
kube-proxy's rules on each node it enters, the CNI datapath between nodes, the cloud load
balancer and the ingress controller, recording each hop with the packet as it leaves. It
ends with a verdict and a reason a learner can act on, and the reply path, on which conntrack
undoes every NAT so the client sees the address it dialled.

What is where:

- ``request``: :func:`trace` itself: the source and the target read, the first packet sent.
- ``family``: which IP family the request travels in (curl's ``-4``/``-6``, IPv6 first).
- ``dns``: the lookup at the start of a trace that names its target.
- ``node``: through one node's netfilter: kube-proxy's (or Cilium's) decision, the SNAT,
  the datapath to the next node.
- ``arrival``: where the packet lands: a host outside, a node's own address or a pod.
- ``policy``: where NetworkPolicy meets the trace (the sender's egress, the receiver's ingress).
- ``memo``: traces remembered per state of the cluster's objects.

The packet from outside the cluster (a load balancer, an Ingress) is :mod:`app.network.outside`.
"""

from __future__ import annotations

from app.network.run import TraceRun, ephemeral_port
from app.network.trace.memo import remembered_trace
from app.network.trace.request import trace

__all__ = ["TraceRun", "ephemeral_port", "remembered_trace", "trace"]
