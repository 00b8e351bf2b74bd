"""Servers taking other readings of the points x-implementation-defined leaves open: the suite
must pass each (no false alarm), since clients may not depend on those points.

Each patches a fresh reference app the way another conformant implementer could have built it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

from .faults import Asgi, _answers, _is_checkout, answer_of


@dataclass(frozen=True)
class Reading:
    name: str
    point: str  # the x-implementation-defined id whose other reading this server takes
    description: str
    apply: Callable[[Any], Asgi]


def _first_field_in_order(app: Any) -> Asgi:
    """params.several-faults: the error of the first field in path order names `param` (the
    reference names jsonschema's best match)."""
    for validator in app.state.handler.validators.values():
        slow = validator._slow

        def first(
            body: Any, slow: Any = slow, judge: Any = validator.first_error
        ) -> ValidationError | None:
            if judge(body) is None:  # valid stays valid: only which error is named changes
                return None
            errors = sorted(slow.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
            return errors[0] if errors else None

        validator.first_error = first
    return app  # type: ignore[no-any-return]


def _page_instead_of_redirect(app: Any) -> Asgi:
    """hosted-page.return: the page answers 200 with a link to returnUrl instead of a 303."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/pay/"):
            await app(scope, receive, send)
            return
        start, body = await answer_of(app, scope, receive)
        if start.get("status") == 303:
            target = dict(start.get("headers", [])).get(b"location", b"").decode()
            page = f'<!doctype html><title>Paid</title><a href="{target}">Back to the shop</a>'
            body = page.encode()
            start = {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await send(start)
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _url_with_query(path: str, req: Any, status: int, resp: Any) -> Any:
    """objects.page-urls: checkout pages linked with a query of their own."""
    if _is_checkout(resp) and "?" not in resp["url"]:
        return status, {**resp, "url": resp["url"] + "?lang=sv"}, {}
    return None


def _all_readings(app: Any) -> Asgi:
    return _answers(_url_with_query)(_page_instead_of_redirect(_first_field_in_order(app)))


READINGS = [
    Reading(
        "other-readings",
        "params.several-faults, hosted-page.return, objects.page-urls",
        "the first field at fault in path order as param, a 200 page instead of the 303, page URLs with a query",
        _all_readings,
    ),
]
