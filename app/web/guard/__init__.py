"""What keeps a shared Podpath server safe: body size, Host and origin checks, rate limits
and security headers, each an ASGI middleware (see each module)."""

from __future__ import annotations

from fastapi import FastAPI

from app.settings import Settings
from app.web.errors import CatchUnexpected
from app.web.guard.body import BodySizeLimit
from app.web.guard.headers import SecurityHeaders
from app.web.guard.origin import OriginGuard
from app.web.guard.rate import RateLimits


def install_guards(app: FastAPI, settings: Settings) -> None:
    """Wrap ``app`` so that, from the outside in: every answer carries the security headers;
    an unexpected error is a 500 that keeps the connection; a foreign Host or a change from
    another site is refused; a body over the limit is cut off; and the rate limits apply."""
    # add_middleware puts each new one outside the ones before it.
    app.add_middleware(RateLimits, settings=settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(OriginGuard, settings=settings)
    app.add_middleware(CatchUnexpected)
    app.add_middleware(SecurityHeaders)
