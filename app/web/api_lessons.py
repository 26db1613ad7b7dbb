"""Lessons in the JSON API: the catalog, a workspace's progress, and starting, moving through
and checking a lesson from a script (what the lesson panel does, as JSON)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from app.cluster.cluster import Cluster
from app.errors import NotFound
from app.lessons import notes, session
from app.lessons.model import Lesson
from app.web import api_bodies as bodies
from app.web import openapi as oa
from app.web.api import WorkspaceId, read_json, workspaces

router = APIRouter(prefix="/api/v1", tags=["lessons"])

Slug = Annotated[
    str, Path(description="A lesson's slug, as `GET /api/v1/lessons` lists them (else a 404).")
]


def _lesson(request: Request, slug: str) -> Lesson:
    lesson = request.app.state.lessons.get(slug)
    if lesson is None:
        raise NotFound(f'lessons "{slug[:80]}" not found')
    return lesson


def _outline(lesson: Lesson) -> dict[str, Any]:
    return {
        "slug": lesson.slug,
        "title": lesson.title,
        "summary": lesson.summary,
        "cni": lesson.cni,
        "proxyMode": lesson.proxy_mode,
        "steps": [{"id": s.id, "title": s.title, "ask": s.question} for s in lesson.steps],
        "quiz": len(lesson.quiz),
    }


@router.get(
    "/lessons",
    summary="Every lesson, in order, with its steps",
    response_model=None,
    responses={200: oa.ok(bodies.LessonCatalog, "The lessons."), **oa.CATALOG},
)
def list_lessons(request: Request) -> dict[str, Any]:
    return {"lessons": [_outline(lesson) for lesson in request.app.state.lessons.lessons]}


@router.get(
    "/workspaces/{workspace_id}/lessons",
    summary="A workspace's progress in each lesson",
    responses={
        200: oa.ok(bodies.LessonProgress, "The open lesson and each one's progress."),
        **oa.READ,
    },
)
def progress(request: Request, workspace_id: WorkspaceId) -> Response:
    catalog = request.app.state.lessons

    def read(cluster: Cluster) -> dict[str, Any]:
        return {
            "active": notes.active(cluster),
            "lessons": {lesson.slug: session.status(cluster, lesson) for lesson in catalog.lessons},
        }

    return read_json(request, workspace_id, read)


class StepMove(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    step: oa.WholeNumber = Field(
        description="The step to go to, from 0; the number of steps is the recap and quiz "
        "(a number out of that range goes to the nearest end). Steps skipped on the way "
        "forward are done for you (their solutions applied)."
    )


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    answer: str | None = Field(
        None, max_length=200, description="For a step that asks a question: the answer to check."
    )


def _step_json(cluster: Cluster, lesson: Lesson, outcomes: list[Any] | None = None) -> dict:
    state = session.status(cluster, lesson)
    index = notes.progress(cluster, lesson.slug)["step"]
    answer: dict[str, Any] = {"lesson": lesson.slug, "step": index, "progress": state}
    if index < len(lesson.steps):
        answer["stepId"] = lesson.steps[index].id
    if outcomes is not None:
        answer["passed"] = bool(outcomes) and all(o.passed for o in outcomes)
        answer["checks"] = [o.to_dict() for o in outcomes]
    return answer


@router.post(
    "/workspaces/{workspace_id}/lessons/{slug}/start",
    summary="Start a lesson: its cluster, its setup, step 0 (the workspace's objects go)",
    response_model=None,
    responses={200: oa.ok(bodies.LessonStep, "The lesson at step 0."), **oa.CHANGE},
)
def start(request: Request, workspace_id: WorkspaceId, slug: Slug) -> dict[str, Any]:
    lesson = _lesson(request, slug)

    def run(cluster: Cluster) -> dict[str, Any]:
        session.start(cluster, lesson)
        return _step_json(cluster, lesson)

    return workspaces(request).change(workspace_id, run)


@router.post(
    "/workspaces/{workspace_id}/lessons/{slug}/step",
    summary="Go to a step",
    response_model=None,
    responses={200: oa.ok(bodies.LessonStep, "The lesson at that step."), **oa.CHANGE},
)
def go_to(
    request: Request, workspace_id: WorkspaceId, slug: Slug, body: StepMove
) -> dict[str, Any]:
    lesson = _lesson(request, slug)

    def run(cluster: Cluster) -> dict[str, Any]:
        session.open_lesson(cluster, lesson)
        done = session.go_to(cluster, lesson, body.step)
        return {**_step_json(cluster, lesson), "done": done.lines}

    return workspaces(request).change(workspace_id, run)


@router.post(
    "/workspaces/{workspace_id}/lessons/{slug}/check",
    summary="Check the current step: each check with its message",
    response_model=None,
    responses={200: oa.ok(bodies.LessonStep, "Each check with its message."), **oa.CHANGE},
)
def check(
    request: Request, workspace_id: WorkspaceId, slug: Slug, body: Answer | None = None
) -> dict:
    lesson = _lesson(request, slug)

    def run(cluster: Cluster) -> dict[str, Any]:
        session.open_lesson(cluster, lesson)
        if body is not None and body.answer is not None:
            outcomes = session.answer(cluster, lesson, body.answer)
        else:
            outcomes = session.check(cluster, lesson)
        return _step_json(cluster, lesson, outcomes)

    return workspaces(request).change(workspace_id, run)


@router.post(
    "/workspaces/{workspace_id}/lessons/{slug}/show",
    summary="Show me: do the current step (its solution), then check it",
    response_model=None,
    responses={200: oa.ok(bodies.LessonStep, "What was done, and each check."), **oa.CHANGE},
)
def show_me(request: Request, workspace_id: WorkspaceId, slug: Slug) -> dict[str, Any]:
    lesson = _lesson(request, slug)

    def run(cluster: Cluster) -> dict[str, Any]:
        session.open_lesson(cluster, lesson)
        done = session.show_me(cluster, lesson)
        outcomes = session.check(cluster, lesson)
        return {**_step_json(cluster, lesson, outcomes), "done": done.lines}

    return workspaces(request).change(workspace_id, run)
