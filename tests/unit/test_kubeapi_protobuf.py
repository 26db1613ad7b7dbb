"""Reading objects kubectl sends as protobuf (app/kubeapi/protobuf.py)."""

from __future__ import annotations

import pytest

from app.kubeapi.protobuf import decode_object
from app.kubeapi.status import ApiError

# The body kubectl 1.32 POSTs for `kubectl create deployment cap --image=nginx:1.27
# --replicas=2 --port=8080` (captured from the real binary on its way to Podpath).
CREATE_DEPLOYMENT = bytes.fromhex(
    "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412be010a1f0a0363617012001a"
    "0022002a003200380042005a0a0a036170701203636170128c010802120c0a0a0a03617070120363"
    "61701a720a1c0a0012001a0022002a003200380042005a0a0a036170701203636170125212340a05"
    "6e67696e78120a6e67696e783a312e32372a00320b0a00100018903f22002a0042006a0072008001"
    "00880100900100a201001a00320042004a0052005800600068008201008a01009a0100c201002202"
    "0a00280038001a0c0800100018002000280038001a002200"
)


def test_kubectl_create_deployment_reads_as_its_json():
    assert decode_object(CREATE_DEPLOYMENT) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "cap", "labels": {"app": "cap"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "cap"}},
            "template": {
                "metadata": {"labels": {"app": "cap"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.27",
                            "ports": [{"containerPort": 8080}],
                            "resources": {},
                        }
                    ]
                },
            },
            "strategy": {},
        },
        "status": {"replicas": 0},
    }


def test_a_body_without_the_magic_or_of_an_unknown_kind_is_refused():
    with pytest.raises(ApiError) as raised:
        decode_object(b"{}")
    assert raised.value.code == 400
    secret = b"k8s\x00" + bytes([0x0A, 0x0C, 0x0A, 0x02]) + b"v1" + bytes([0x12, 0x06]) + b"Secret"
    with pytest.raises(ApiError) as raised:
        decode_object(secret)
    assert raised.value.code == 415
