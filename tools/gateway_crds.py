"""Extract trimmed Gateway API CRD schemas for Podpath's validation.

Run from the repository root with a clone of kubernetes-sigs/gateway-api:

    .venv/bin/python tools/gateway_crds.py /path/to/gateway-api v1.6.1

It reads ``config/crd/standard/*.yaml`` at the given tag and writes one JSON file per kind to
``app/cluster/validation/crds/``: the v1 ``openAPIV3Schema`` (with its descriptions, which
``kubectl explain`` prints), plus the CRD's scope, names, served versions and
additionalPrinterColumns. (In these CRDs every served version has the same schema, but for
descriptions; the script checks it.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

KINDS = ("gatewayclasses", "gateways", "httproutes", "referencegrants", "grpcroutes")
OUT = Path(__file__).resolve().parent.parent / "app" / "cluster" / "validation" / "crds"


def _trim(node):
    if isinstance(node, dict):
        return {k: _trim(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_trim(v) for v in node]
    return node


def main(repo: str, tag: str) -> None:
    OUT.mkdir(exist_ok=True)
    for plural in KINDS:
        path = f"config/crd/standard/gateway.networking.k8s.io_{plural}.yaml"
        text = subprocess.run(
            ["git", "-C", repo, "show", f"{tag}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        crd = yaml.safe_load(text)
        spec = crd["spec"]
        served = [v for v in spec["versions"] if v.get("served")]
        for version in served[1:]:
            same = _trim(version["schema"]) == _trim(served[0]["schema"])
            assert same, (plural, version["name"])
        for version in served[:1]:
            doc = {
                "source": f"kubernetes-sigs/gateway-api {tag} {path}",
                "bundleVersion": crd["metadata"]["annotations"].get(
                    "gateway.networking.k8s.io/bundle-version"
                ),
                "group": spec["group"],
                "version": version["name"],
                "served": [v["name"] for v in served],
                "storage": next(v["name"] for v in spec["versions"] if v.get("storage")),
                "kind": spec["names"]["kind"],
                "plural": spec["names"]["plural"],
                "singular": spec["names"]["singular"],
                "shortNames": spec["names"].get("shortNames", []),
                "categories": spec["names"].get("categories", []),
                "scope": spec["scope"],
                "printerColumns": version.get("additionalPrinterColumns", []),
                "schema": version["schema"]["openAPIV3Schema"],
            }
            name = f"{spec['names']['singular']}.json"
            (OUT / name).write_text(json.dumps(doc, separators=(",", ":")) + "\n")
            print(name)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
