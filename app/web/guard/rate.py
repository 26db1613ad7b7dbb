"""Per-client limits on making sandboxes and on the server's time.

A class shares the server, often behind one address (a school's NAT), so limits are kept
per browser (a random cookie, ``podpath_client``) *and* per address, the address's limit
being a class's worth: 200 students behind one address all get their sandbox, while one
script cannot fill the disk or keep the CPU for itself. A program without the cookie counts
as one browser per address.

What is limited:

* **new sandboxes** (a new workspace, a copy from a share link, a lesson's first start):
  counted per hour;
* **work**: every change to a sandbox (apply, a form, compare, switch, reset, a trace, a
  batch of requests, a lesson's Check) is timed, and the seconds it took are charged, so
  that a learner who clicks a lot on a small cluster is never stopped while repeated
  expensive calls on a huge one are.

Over a limit, the answer is 429 with ``Retry-After`` and a sentence saying which limit and
when to try again. Each server process keeps its own counts.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import TooManyRequests
from app.settings import Settings
from app.web.errors import error_response
from app.web.guard import buckets
from app.web.guard.buckets import Buckets

CLIENT_COOKIE = "podpath_client"
CLIENT_COOKIE_MAX_AGE = 365 * 24 * 3600

#: Requests that make a new workspace.
NEW_WORKSPACE = re.compile(
    r"^(/w|/api/v1/workspaces|/api/v1/workspaces/[^/]+/fork|/s/[^/]+|/lessons/[^/]+"
    r"|/classes|/join/[^/]+)$"
)
#: Requests whose time is charged: every change to a workspace (and traces, which are POSTs),
#: kubectl's through the Kubernetes-compatible API (/k/<id>) included.
WORK = re.compile(r"^(/w/[^/]+/|/api/v1/workspaces/[^/]+/|/k/[^/]+/)")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Limit:
    """One limit: the buckets, the setting that sizes them, and how to say it."""

    buckets: Buckets
    setting: str
    says: str

    def refusal(self, who: str, wait: float) -> TooManyRequests:
        seconds = max(1, int(wait + 0.999))
        when = f"{seconds} seconds" if seconds < 120 else f"{round(seconds / 60)} minutes"
        capacity = f"{self.buckets.capacity:g}"
        return TooManyRequests(
            f"{who[0].upper()}{who[1:]} {self.says.format(capacity)} (PODPATH_{self.setting.upper()}), so that "
            f"everyone sharing this server gets an answer; try again in {when}",
            retry_after=seconds,
        )


def client_id(headers: Headers) -> str | None:
    """The browser's ``podpath_client`` cookie, when it holds an id this server could have
    made."""
    value = cookie_parser(headers.get("cookie", "")).get(CLIENT_COOKIE, "")
    if 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value
    return None


class RateLimits:
    """The limits of :mod:`app.web.guard.rate` as ASGI middleware."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        hour, minute = 3600.0, 60.0
        self.new_client = Limit(
            Buckets(settings.new_per_client, hour),
            "new_per_client",
            "made {} new sandboxes in the last hour, the most one browser may make",
        )
        self.new_address = Limit(
            Buckets(settings.new_per_address, hour),
            "new_per_address",
            "made {} new sandboxes in the last hour, the most one address may make",
        )
        self.work_client = Limit(
            Buckets(settings.work_per_client, minute),
            "work_per_client",
            "used {} seconds of the server's time in the last minute, the most one browser may use",
        )
        self.work_address = Limit(
            Buckets(settings.work_per_address, minute),
            "work_per_address",
            "used {} seconds of the server's time in the last minute, the most one address may use",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        known = client_id(headers)
        address = (scope.get("client") or ("unknown",))[0]
        client = known or f"address:{address}"
        path, method = scope["path"], scope["method"]
        new = method == "POST" and NEW_WORKSPACE.match(path) is not None
        work = method in UNSAFE_METHODS and not new and WORK.match(path) is not None
        refusal = self._refusal(new, work, client, address, known is not None)
        if refusal is not None:
            await error_response(Request(scope), refusal)(scope, receive, send)
            return
        if new:
            self.new_client.buckets.take(client, 1)
            self.new_address.buckets.take(address, 1)
        new_cookie = None if known else secrets.token_urlsafe(18)
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and new_cookie:
                cookie = (
                    f"{CLIENT_COOKIE}={new_cookie}; Path=/; Max-Age={CLIENT_COOKIE_MAX_AGE}; "
                    "HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
                )
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())],
                }
            await send(message)

        started = buckets.now()
        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            if work:
                spent = buckets.now() - started
                self.work_client.buckets.take(client, spent)
                self.work_address.buckets.take(address, spent)

    def _refusal(
        self, new: bool, work: bool, client: str, address: str, known: bool
    ) -> TooManyRequests | None:
        who = "this browser has" if known else f"programs at {address} have"
        checks = []
        if new:
            checks = [(self.new_client, client, 1), (self.new_address, address, 1)]
        elif work:
            checks = [(self.work_client, client, 0), (self.work_address, address, 0)]
        for limit, key, cost in checks:
            wait = limit.buckets.wait(key, cost)
            if wait:
                whom = f"browsers at {address} have" if key == address else who
                return limit.refusal(whom, wait)
        return None
