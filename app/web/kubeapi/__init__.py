"""A Kubernetes-compatible API per workspace, under ``/k/<workspace>``, for the real kubectl.

Thin routes over :mod:`app.kubeapi`: discovery, OpenAPI and the kubeconfig
(:mod:`.discovery`), the resources (:mod:`.objects`) and their watches (:mod:`.watching`).
"""

from __future__ import annotations

from fastapi import APIRouter

from app.web.kubeapi import discovery, objects

router = APIRouter()
router.include_router(discovery.router)
router.include_router(objects.router)

__all__ = ["router"]
