"""The Starlette application behind `acewatch serve`: pages for people, JSON twins for scripts.

Read-only by construction: every route is GET (HEAD comes with it), so any
other method gets 405 and nothing here writes to the store. Checks, the one
path people hit often, answer from memory when the same name was asked in the
same cycle; otherwise they run in a few worker threads (the search is CPU
bound: more threads would only queue on the GIL).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from acewatch.api import Acewatch, BadInput, NoEvidence, StoreFailed
from acewatch.jsonout import dumps
from acewatch.web.reads import READERS, Answer, Reads, first_line
from acewatch.web.security import SecurityHeaders
from acewatch.web.views import environment, verdict_of

log = logging.getLogger("acewatch.web")
STATIC = Path(__file__).with_name("static")
MAX_CYCLE = 2**31 - 1
LATEST_CHANGES = 10


class BadRequest(BadInput):
    """A parameter that cannot be used as given; the message says why (shown to the person)."""


def store_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the store cannot be read right now" (503, never a traceback): the API's
    StoreFailed, and the reader's own error from the snapshot look-up the app makes for its cache."""
    from store.reader import ReaderError

    return (StoreFailed, ReaderError)


def json_response(data: Any, status: int = 200) -> Response:
    """JSON as the CLI prints it (acewatch.jsonout: one time format, scraped text made safe), so the twins
    parse to the same data."""
    body = dumps(data, indent=None)
    return Response(body, status_code=status, media_type="application/json")


def int_param(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


class Site:
    """The routes' handlers over one `Reads` and one template environment."""

    def __init__(self, reads: Reads) -> None:
        self.reads = reads
        self.env = environment()
        self._limiter: anyio.CapacityLimiter | None = None

    def page(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.render(name, **context), status_code=status)

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)

    async def in_thread(self, function: Callable, *args: Any) -> Any:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(READERS)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)

    async def answer(self, request: Request) -> tuple[str, Answer]:
        """The check answer for ?q= (and ?limit=), from memory when it was just asked."""
        query = request.query_params.get("q", "")
        limit = int_param(request, "limit", 5, 1, 50)
        kept = self.reads.kept_answer(query, limit) if query.strip() else None
        return query, kept if kept is not None else await self.in_thread(self.reads.check, query, limit)

    # -- pages ----------------------------------------------------------------

    def home(self, request: Request) -> Response:
        try:
            changes = self.reads.changes()
        except (NoEvidence, *store_errors()) as exc:  # no cycle yet, or an unreadable store: the form still works
            log.info("home page without changes: %s", exc)
            changes = None
        events = changes["events"][-LATEST_CHANGES:][::-1] if changes else []
        return self.page("home.html", changes=changes, events=events, query="")

    async def check_page(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        try:
            query, answer = await self.answer(request)
        except (BadInput, NoEvidence) as exc:
            return self.page("check.html", 400, query=query, error=str(exc), answer=None, verdict=None)
        page = answer.body(
            "html", lambda data: self.render("check.html", query=query, answer=data, verdict=verdict_of(data))
        )
        return HTMLResponse(page)

    def changes_page(self, request: Request) -> Response:
        try:
            data = self.reads.changes(int_param(request, "cycle", None, 1, MAX_CYCLE))
        except BadRequest as exc:
            return self.page("message.html", 400, title="Changes", message=str(exc))
        except NoEvidence as exc:
            return self.page("message.html", 404, title="Changes", message=str(exc))
        return self.page("changes.html", data=data)

    def history_page(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        try:
            data = self.reads.history(query)
        except BadInput as exc:
            return self.page("history.html", 400, query=query, error=str(exc), data=None)
        return self.page("history.html", 200 if data["timeline"] else 404, query=query, error=None, data=data)

    def status_page(self, request: Request) -> Response:
        return self.page("status.html", data=self.reads.status())

    def feed(self, request: Request) -> Response:
        return Response(self.reads.feed(), media_type="application/atom+xml; charset=utf-8")

    async def healthz(self, request: Request) -> Response:
        if self.reads.recently_read() or await self.in_thread(self.reads.healthy):
            return PlainTextResponse("ok\n")
        return PlainTextResponse("the store cannot be opened\n", status_code=503)

    # -- JSON twins -----------------------------------------------------------

    async def api_check(self, request: Request) -> Response:
        try:
            _query, answer = await self.answer(request)
        except (BadInput, NoEvidence) as exc:
            return json_response({"error": str(exc), "exit_code": int(exc.exit_code)}, 400)
        return Response(answer.body("json", lambda data: dumps(data, indent=None)), media_type="application/json")

    def api_changes(self, request: Request) -> Response:
        try:
            return json_response(self.reads.changes(int_param(request, "cycle", None, 1, MAX_CYCLE)))
        except BadRequest as exc:
            return json_response({"error": str(exc)}, 400)
        except NoEvidence as exc:
            return json_response({"error": str(exc)}, 404)

    def api_history(self, request: Request) -> Response:
        try:
            data = self.reads.history(request.query_params.get("q", ""))
        except BadInput as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(data, 200 if data["timeline"] else 404)

    def api_status(self, request: Request) -> Response:
        return json_response(self.reads.status())

    # -- errors ---------------------------------------------------------------

    def unavailable(self, request: Request, exc: Exception) -> Response:
        """The store failed: say so plainly; the (password-masked) reason goes to the log only."""
        log.warning("store unavailable for %s: %s", request.url.path, first_line(exc))
        message = "The store cannot be read right now. Try again in a minute."
        if request.url.path.startswith("/api/"):
            return json_response({"error": message}, 503)
        return self.page("message.html", 503, title="Unavailable", message=message)


def create_app(api: Acewatch) -> SecurityHeaders:
    """The ASGI app over one `Acewatch` (its store, its configuration, its kept name index)."""
    site = Site(Reads(api))
    get = ["GET"]
    routes = [
        Route("/", site.home, methods=get),
        Route("/check", site.check_page, methods=get),
        Route("/changes", site.changes_page, methods=get),
        Route("/history", site.history_page, methods=get),
        Route("/status", site.status_page, methods=get),
        Route("/feed.atom", site.feed, methods=get),
        Route("/healthz", site.healthz, methods=get),
        Route("/api/check", site.api_check, methods=get),
        Route("/api/changes", site.api_changes, methods=get),
        Route("/api/history", site.api_history, methods=get),
        Route("/api/status", site.api_status, methods=get),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {error: site.unavailable for error in store_errors()}

    @asynccontextmanager
    async def lifespan(_app):
        threading.Thread(target=site.reads.warm, name="acewatch-warm", daemon=True).start()
        yield

    return SecurityHeaders(Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan))


def serve(api: Acewatch, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app under uvicorn until SIGINT/SIGTERM (the `acewatch serve` command). The app's own lines
    log at INFO like uvicorn's: a server's log is where its operator looks."""
    import uvicorn

    log.setLevel(min(log.getEffectiveLevel(), logging.INFO))

    uvicorn.run(create_app(api), host=host, port=port, server_header=False, proxy_headers=True, log_level="info")
