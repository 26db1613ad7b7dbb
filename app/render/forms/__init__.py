"""The sandbox's Build forms: form fields turned into manifests, and what the forms show.

Reading the fields is :mod:`.fields`; the Deployment and Pod forms are :mod:`.workloads`,
the Service and Ingress forms :mod:`.network`, the Gateway and HTTPRoute forms
:mod:`.gateway`; what the forms offer to pick from is
:mod:`.view`.

Each builder takes the form's fields as the browser sent them (strings) and returns one
Kubernetes object. Only what a form cannot say in YAML terms is checked here (``app=web`` is
not a label list, ``eighty`` is not a port number); everything else is left to ``apply``, so
a learner sees exactly the errors the YAML tab would show for the same manifest.

>>> from app.cluster.apply import apply_text
>>> from app.cluster.cluster import Cluster
>>> cluster = Cluster.create(seed=1)
>>> text = manifest_yaml(deployment_manifest(
...     {"name": "web", "replicas": "2", "labels": "app=web", "image": "nginx:1.27",
...      "port": "80", "port_name": "http"}))
>>> [(o.kind, o.name, o.action) for o in apply_text(cluster, text).objects]
[('Deployment', 'web', 'created')]
>>> selector_preview(cluster, "default", "app=web")["matches"]
2
"""

from __future__ import annotations

from typing import Any

from app.cluster.manifests import dump_manifests
from app.render.forms.fields import Fields, parse_labels
from app.render.forms.gateway import gateway_manifest, httproute_manifest
from app.render.forms.network import (
    INGRESS_PATH_FIELDS,
    SERVICE_TYPE_FIELDS,
    SERVICE_TYPES,
    ingress_fields,
    ingress_manifest,
    ingress_path_rows,
    service_fields,
    service_manifest,
)
from app.render.forms.policy import field_errors, networkpolicy_manifest
from app.render.forms.policy import form_layout as policy_form_layout
from app.render.forms.view import HIDDEN_LABELS, forms_view, selector_preview
from app.render.forms.workloads import deployment_manifest, pod_manifest

__all__ = [
    "BUILDERS",
    "HIDDEN_LABELS",
    "INGRESS_PATH_FIELDS",
    "SERVICE_TYPES",
    "SERVICE_TYPE_FIELDS",
    "Fields",
    "deployment_manifest",
    "field_errors",
    "forms_view",
    "gateway_manifest",
    "httproute_manifest",
    "ingress_fields",
    "ingress_manifest",
    "ingress_path_rows",
    "manifest_yaml",
    "networkpolicy_manifest",
    "parse_labels",
    "pod_manifest",
    "policy_form_layout",
    "selector_preview",
    "service_fields",
    "service_manifest",
]

BUILDERS = {
    "deployment": deployment_manifest,
    "service": service_manifest,
    "pod": pod_manifest,
    "ingress": ingress_manifest,
    "networkpolicy": networkpolicy_manifest,
    "gateway": gateway_manifest,
    "httproute": httproute_manifest,
}


def manifest_yaml(manifest: dict[str, Any]) -> str:
    """The manifest as the YAML a learner could paste into the YAML form."""
    return dump_manifests([manifest])
