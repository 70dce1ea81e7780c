"""The dashboard: a Starlette app, rendered on the server, every page with a ``.json`` twin.

Security, because logs are attacker-controlled and the page may be reached by others:
- Jinja2 autoescapes every value; charts are SVG built with :func:`html.escape`.
- A strict Content-Security-Policy: scripts, styles and images from this server only, no
  inline script or style, no frames, no form posts elsewhere.
- When served beyond 127.0.0.1 a random token is required: in the URL once, then an HttpOnly,
  SameSite=Strict cookie. Requests without it are refused (403).
- The case is opened read-only and cannot read or write any file outside it, and the SQL box
  runs one SELECT.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from awsir import __version__
from awsir.web import charts, data

HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
COOKIE = "awsir_token"
PAGES = ("readiness", "sources", "search", "timeline", "detections", "collection")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"], default=True),
    )
    env.globals.update(charts=charts, version=__version__, pages=PAGES)
    env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, default=str)
    return env


class Guard(BaseHTTPMiddleware):
    """Security headers on every response; the token check when one is set."""

    def __init__(self, app: Any, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.query_params.get("token")
        if self.token is not None:
            cookie = request.cookies.get(COOKIE, "")
            ok = hmac.compare_digest(given or "", self.token) or hmac.compare_digest(
                cookie, self.token
            )
            if not ok:
                return _secure(PlainTextResponse("token required", status_code=403))
        response = await call_next(request)
        if self.token is not None and given:
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        return _secure(response)


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def create_app(case: Path | None, history: Path, token: str | None = None) -> Starlette:
    """The dashboard over ``case`` (search, timeline, detections, collection) and the readiness
    scans recorded in ``history``."""
    env = _environment()
    src = data.Sources(history=history, case=case)

    def render(name: str, request: Request, context: dict[str, Any], status: int = 200) -> Response:
        body = env.get_template(f"{name}.html").render(
            page=name, request=request, case=str(case) if case else None, **context
        )
        return HTMLResponse(body, status_code=status)

    def twin(name: str, load: Callable[[Request], dict[str, Any]]) -> list[Route]:
        async def html(request: Request) -> Response:
            try:
                return render(name, request, {"data": load(request), "error": None})
            except data.DataError as exc:
                return render(name, request, {"data": None, "error": str(exc)}, 400)

        async def as_json(request: Request) -> Response:
            try:
                return JSONResponse(json.loads(json.dumps(load(request), default=str)))
            except data.DataError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return [Route(f"/{name}", html), Route(f"/{name}.json", as_json)]

    def params(request: Request) -> dict[str, str]:
        return {k: v for k, v in request.query_params.items() if k != "token"}

    readiness_keys = ("account", "region", "severity", "status", "source")
    routes: list[BaseRoute] = [
        *twin(
            "readiness",
            lambda r: data.readiness(
                src, {k: v for k, v in params(r).items() if k in readiness_keys and v}
            ),
        ),
        *twin("sources", lambda r: data.sources(src, r.query_params.get("q", ""))),
        *twin("search", lambda r: data.search(src, params(r))),
        *twin("timeline", lambda r: data.timeline(src, params(r))),
        *twin("detections", lambda r: data.detections(src, r.query_params.get("severity", ""))),
        *twin("collection", lambda r: data.collection(src, r.query_params.get("verify") == "1")),
    ]

    async def home(request: Request) -> Response:
        return RedirectResponse("/readiness", status_code=303)

    async def export(request: Request) -> Response:
        try:
            rows = data.search_csv(src, params(request))
        except data.DataError as exc:
            return PlainTextResponse(f"error: {exc}", status_code=400)
        return StreamingResponse(
            rows,
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="awsir-search.csv"'},
        )

    routes += [
        Route("/", home),
        Route("/search.csv", export),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard, token=token)])
