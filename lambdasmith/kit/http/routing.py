"""Routing and the Lambda handler shell shared by every HTTP service.

`Router` matches raw paths against templates (`/a/{param}/b`): literal segments compare
case-insensitively, a template matches an exact segment count, parameters are percent-decoded
once. `App` turns an event into a `Request`, routes it, and handles once for every service what
each would otherwise get wrong on its own: HEAD, CORS preflight, 404 vs 405 + `Allow`, and errors
as JSON in the service's own shape — never a stack trace.
"""

from __future__ import annotations

from lambdasmith.kit.http.events import BadEvent, Request, decode_segment, parse_event, split_path, to_result
from lambdasmith.kit.http.responses import Response, json_response
from lambdasmith.kit.observability.logs import Logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

    Handler = Callable[[Request], Response]

__all__ = ["HTTPError", "Route", "Router", "default_error_body", "App", "lambda_handler"]


class HTTPError(Exception):
    """A client-visible error. `code`/`field` feed the service's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.field = field
        self.headers = headers or {}
        self.body = body  # a complete body, bypassing the service's error shape


class Route:
    __slots__ = ("method", "template", "segments", "params", "handler", "literals")

    def __init__(self, method: str, template: str, handler: Handler):
        segments: list[str | None] = []
        params: list[str] = []
        for s in split_path(template):
            if s.startswith("{") and s.endswith("}"):
                segments.append(None)
                params.append(s[1:-1])
            else:
                segments.append(s.lower())
        self.method = method.upper()
        self.template = template
        self.segments = tuple(segments)  # literal (lower-cased), or None for a parameter
        self.params = tuple(params)
        self.handler = handler
        self.literals = sum(s is not None for s in segments)


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes.append(Route(method, template, fn))
            # most literal segments first, so `/a/latest` wins over `/a/{id}`; stable otherwise
            self.routes.sort(key=lambda r: -r.literals)
            return fn

        return register

    def get(self, template: str) -> Callable[[Handler], Handler]:
        return self.route("GET", template)

    def post(self, template: str) -> Callable[[Handler], Handler]:
        return self.route("POST", template)

    def put(self, template: str) -> Callable[[Handler], Handler]:
        return self.route("PUT", template)

    def delete(self, template: str) -> Callable[[Handler], Handler]:
        return self.route("DELETE", template)

    def candidates(self, raw_path: str) -> Iterable[tuple[Route, dict[str, str]]]:
        """Routes whose template matches the path, with their decoded parameters."""
        parts = split_path(raw_path)
        lowered = None
        for r in self.routes:
            if len(r.segments) != len(parts):
                continue
            if lowered is None:
                lowered = [decode_segment(p).lower() for p in parts]
            if all(s is None or s == lowered[i] for i, s in enumerate(r.segments)):
                values = [decode_segment(parts[i]) for i, s in enumerate(r.segments) if s is None]
                yield r, dict(zip(r.params, values))

    def allowed(self, raw_path: str) -> list[str]:
        methods: list[str] = []
        for r, _ in self.candidates(raw_path):
            if r.method not in methods:
                methods.append(r.method)
        if "GET" in methods and "HEAD" not in methods:
            methods.append("HEAD")
        return methods


def default_error_body(err: HTTPError) -> dict[str, Any]:
    body: dict[str, Any] = {"message": err.message}
    if err.code:
        detail = {"error_code": err.code}
        if err.field:
            detail["property_name"] = err.field
        body["error_details"] = [detail]
    return body


class App:
    """A routed HTTP service; `app.handler` is the Lambda entry point."""

    def __init__(
        self,
        router: Router,
        *,
        logger: Logger,
        error_body: Callable[[HTTPError], Any] = default_error_body,
        cors_allow_headers: Iterable[str] = ("content-type",),
        cors_origin: str | None = "*",
        before: Callable[[Request], None] | None = None,
        after: Callable[[Request, Response], None] | None = None,
    ):
        self.router = router
        self.logger = logger
        self.error_body = error_body
        self.cors_allow_headers = tuple(h.lower() for h in cors_allow_headers)
        self.cors_origin = cors_origin
        self.before = before
        self.after = after

    def handler(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        version = event.get("version", "1.0" if "httpMethod" in event else "2.0") if isinstance(event, dict) else "2.0"
        try:
            request = parse_event(event, context)
        except BadEvent as e:
            return to_result(self._error(HTTPError(400, f"Bad request: {e}")), version)
        self.logger.bind(context, correlation_id=request.request_id or None)
        return to_result(self.handle(request), request.version)

    def handle(self, request: Request) -> Response:
        try:
            response = self._dispatch(request)
        except HTTPError as e:
            response = self._error(e)
        except Exception as e:  # the one place an unexpected failure becomes a clean 500
            self.logger.exception("unhandled error", e, path=request.path, method=request.method)
            response = self._error(HTTPError(500, "Internal server error"))
        if self.cors_origin and request.method != "OPTIONS":
            response.headers.setdefault("Access-Control-Allow-Origin", self.cors_origin)
        if self.after:
            self.after(request, response)
        return response

    def _dispatch(self, request: Request) -> Response:
        try:
            matches = list(self.router.candidates(request.path))
        except UnicodeDecodeError:
            raise HTTPError(400, "Path is not valid percent-encoded UTF-8") from None
        if request.method == "OPTIONS":
            return self._preflight(request, matches)
        if not matches:
            raise HTTPError(404, "Not found")
        method = "GET" if request.method == "HEAD" else request.method
        for route, params in matches:
            if route.method == method or route.method == request.method:
                request.path_params = params
                if self.before:
                    self.before(request)
                response = route.handler(request)
                if request.method == "HEAD":
                    response.headers.setdefault("Content-Length", str(len(response.body_bytes())))
                    response.body = b""
                return response
        allow = ", ".join(self.router.allowed(request.path) + ["OPTIONS"])
        raise HTTPError(405, f"Method {request.method} not allowed", headers={"Allow": allow})

    def _preflight(self, request: Request, matches: list[tuple[Route, dict[str, str]]]) -> Response:
        methods = self.router.allowed(request.path) + ["OPTIONS"]
        asked = request.header("access-control-request-headers") or ""
        allowed = [h.strip().lower() for h in asked.split(",") if h.strip().lower() in self.cors_allow_headers]
        headers = {
            "Access-Control-Allow-Origin": self.cors_origin or "*",
            "Access-Control-Allow-Methods": ", ".join(methods),
            "Access-Control-Max-Age": "3600",
            # The answer depends on what was asked: a cache must not give one preflight's to another.
            "Vary": "Access-Control-Request-Method, Access-Control-Request-Headers",
        }
        if allowed:
            headers["Access-Control-Allow-Headers"] = ", ".join(allowed)
        return Response(204, b"", headers)

    def _error(self, err: HTTPError) -> Response:
        body = err.body if err.body is not None else self.error_body(err)
        return json_response(body, err.status, err.headers)


def lambda_handler(make_app: Callable[[], App]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A module-level Lambda entry point that builds its App on the first invocation (reading
    configuration then, not at import) and keeps it for the warm ones."""
    app: list[App] = []

    def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        if not app:
            app.append(make_app())
        return app[0].handler(event, context)

    return handler
