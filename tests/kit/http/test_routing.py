"""lambdasmith.kit.http.routing: the router and the App (404/405, HEAD, CORS preflight, errors)."""

import io
import json

from lambdasmith.kit.http.responses import json_response
from lambdasmith.kit.http.routing import App, HTTPError, Router
from lambdasmith.kit.observability.logs import Logger
from lambdasmith.local.apigw import v2_event


def make_app():
    router = Router()
    router.get("/items/{id}")(lambda req: json_response({"id": req.path_params["id"]}))
    router.post("/items/{id}")(lambda req: json_response({"posted": True}, 201))
    router.get("/items/latest")(lambda req: json_response({"latest": True}))
    router.get("/boom")(lambda req: 1 / 0)

    def fail(req):
        raise HTTPError(418, "teapot", code="TEA", field="pot")

    router.get("/fail")(fail)
    log = io.StringIO()
    app = App(router, logger=Logger("test", stream=log), cors_allow_headers=("content-type", "x-signature"))
    return app, log


def call(app, method, target, headers=(), body=b""):
    return app.handler(v2_event(method, target, list(headers), body))


def test_params_are_decoded_once_and_literals_are_case_insensitive():
    app, _ = make_app()
    res = call(app, "GET", "/ITEMS/feature%2Fx%2541")
    assert res["statusCode"] == 200
    assert json.loads(res["body"]) == {"id": "feature/x%41"}


def test_literal_route_wins_over_parameter():
    app, _ = make_app()
    assert json.loads(call(app, "GET", "/items/latest")["body"]) == {"latest": True}


def test_segment_count_must_match_and_unknown_path_is_404():
    app, _ = make_app()
    assert call(app, "GET", "/items/a/b")["statusCode"] == 404
    assert call(app, "GET", "/nothing")["statusCode"] == 404
    assert json.loads(call(app, "GET", "/nothing")["body"]) == {"message": "Not found"}


def test_wrong_method_is_405_with_allow():
    app, _ = make_app()
    res = call(app, "DELETE", "/items/1")
    assert res["statusCode"] == 405
    assert res["headers"]["Allow"] == "GET, POST, HEAD, OPTIONS"


def test_head_runs_get_without_body():
    app, _ = make_app()
    res = call(app, "HEAD", "/items/1")
    assert res["statusCode"] == 200 and res["body"] == ""
    assert res["headers"]["Content-Length"] == str(len('{"id":"1"}'))


def test_preflight_lists_methods_and_filters_headers():
    app, _ = make_app()
    res = call(app, "OPTIONS", "/items/1", [("Access-Control-Request-Headers", "Content-Type, X-Evil, x-signature"),
                                            ("Origin", "https://x")])
    assert res["statusCode"] == 204
    h = res["headers"]
    assert h["Access-Control-Allow-Origin"] == "*"
    assert h["Access-Control-Allow-Methods"] == "GET, POST, HEAD, OPTIONS"
    assert h["Access-Control-Allow-Headers"] == "content-type, x-signature"
    assert h["Access-Control-Max-Age"] == "3600"
    assert call(app, "OPTIONS", "/unknown/path")["statusCode"] == 204


def test_http_error_has_service_shape_and_unhandled_error_is_clean_500():
    app, log = make_app()
    res = call(app, "GET", "/fail")
    assert res["statusCode"] == 418
    assert json.loads(res["body"]) == {"message": "teapot", "error_details": [{"error_code": "TEA", "property_name": "pot"}]}
    res = call(app, "GET", "/boom")
    assert res["statusCode"] == 500
    assert "ZeroDivision" not in res["body"] and "Traceback" not in res["body"]
    line = json.loads(log.getvalue().splitlines()[-1])
    assert line["level"] == "ERROR" and line["exception_name"] == "ZeroDivisionError"


def test_bad_percent_encoding_is_400():
    app, _ = make_app()
    assert call(app, "GET", "/items/%ff%fe")["statusCode"] == 400


def test_garbage_event_is_400_not_exception():
    app, _ = make_app()
    assert app.handler({"nope": 1}, None)["statusCode"] == 400
