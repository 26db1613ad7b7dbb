"""``create_app(settings)``: the one place a Podpath server is put together."""

from __future__ import annotations

import gc
from functools import partial
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.lessons.catalog import load_catalog
from app.settings import Settings
from app.store.classes import Classes
from app.store.opening import open_class_backend, open_workspaces
from app.web import (
    api,
    api_lessons,
    api_network,
    api_objects,
    api_policy,
    build,
    compare,
    export_kind,
    history,
    instructor,
    kubeapi,
    lessons,
    pages,
    sandbox,
    terminal,
    traces,
)
from app.web.classroom import student as class_student
from app.web.classroom import teacher as class_teacher
from app.web.classroom.feed import ClassFeeds
from app.web.docs import install_offline_docs
from app.web.errors import install_error_handlers
from app.web.guard import install_guards
from app.web.live import routes as live
from app.web.live.feed import ClusterFeeds
from app.web.rendering import template_environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

DESCRIPTION = """\
Podpath models a Kubernetes cluster (kubeadm defaults, flannel, Calico or Weave) so that a
learner can build workloads and Services and watch what the network does with each request.

Errors follow the Kubernetes API's status codes: 400 for unreadable YAML, 404 for what does
not exist, 409 for conflicts, 413 for bodies over the size limit, 422 for objects that break
a rule (every error listed, nothing applied) and 403 for quotas. A shared server adds 403 for
a change sent by another site's page, 415 for a change sent as `text/plain` or a form, 429
(with `Retry-After`) over a rate limit, 503 when the store cannot be written and 507 when the
disk is too full for a new workspace. Each error names the document, object and field at
fault:

    {"status": 422, "reason": "Invalid", "message": "...",
     "errors": [{"document": 1, "kind": "Service", "name": "web", "namespace": "default",
                 "field": "spec.ports[0].port", "message": "Invalid value: 0: ...",
                 "reason": "FieldValueInvalid", "line": 9}]}
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A Podpath ASGI app for these settings (defaults when None)."""
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Podpath API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.workspaces = open_workspaces(settings)
    # Read every lesson now: a malformed one stops the server with its file and line.
    app.state.lessons = load_catalog(settings.lessons_dir)
    app.state.templates = Jinja2Templates(env=template_environment(TEMPLATES_DIR))
    class_backend = open_class_backend(app.state.workspaces)
    app.state.classes = Classes(class_backend, app.state.workspaces, app.state.lessons)
    app.state.class_feeds = ClassFeeds(class_backend)
    app.state.cluster_feeds = ClusterFeeds(app.state.workspaces)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    install_offline_docs(app)
    install_error_handlers(app)
    # The most asked first: a request is matched against the routers in this order, and no
    # two routers answer the same path (tests/unit/test_routes.py), so the order is only a
    # matter of speed: a class of students mostly loads, traces, follows and types.
    for router in (
        sandbox.router,
        traces.router,
        class_student.router,
        live.router,
        lessons.router,
        terminal.router,
        api.router,
        api_objects.router,
        history.page_router,
        build.router,
        pages.router,
        class_teacher.router,
        kubeapi.router,
        api_network.router,
        api_policy.router,
        api_lessons.router,
        history.api_router,
        instructor.router,
        compare.router,
        export_kind.router,
    ):
        app.include_router(router)
    install_guards(app, settings)
    if settings.threads:
        app.router.on_startup.append(partial(_limit_threads, settings.threads))
    app.router.on_startup.append(_collect_garbage_less_often)
    return app


#: Python's cyclic garbage collector's thresholds for a serving process (its defaults are
#: 700, 10, 10): see :func:`_collect_garbage_less_often`.
GC_THRESHOLDS = (20_000, 20, 100)


async def _collect_garbage_less_often() -> None:
    """Keep the cyclic garbage collector from stopping the server for a quarter of a second
    many times a minute.

    A server holds hundreds of built clusters, millions of small dicts, and builds new ones
    as workspaces change: with Python's default thresholds a full collection (which walks
    every one of them, the process standing still) ran ten times in two minutes of a
    200-student class, 200-400 ms each, and every request in flight waited (bench/classroom.py:
    p95 500 ms against a median of 20). Collections are made rarer, and what the process
    built to start (modules, templates, the lesson catalog) is set aside for good
    (``gc.freeze``): nothing in it is ever garbage.
    """
    gc.collect()  # what is garbage now goes first: frozen, it would never go
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _limit_threads(threads: int) -> None:
    """Run blocking work on at most ``threads`` threads of this process.

    Drawing a page and changing a cluster hold Python's interpreter lock: forty threads at
    once under a lecture hall's load take turns in 5 ms slices, each request slowed by all
    the others, and the switching costs time of its own. A few threads answer the same
    requests one after another, sooner on the whole (measured in bench/classroom.py).
    """
    to_thread.current_default_thread_limiter().total_tokens = threads
