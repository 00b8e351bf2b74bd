"""The pages a customer sees: the hosted checkout page and the client page of saved cards.

They take no API key: the checkout's ``url`` and the customer's ``client_page`` (with its token)
are the capabilities, as on the real platform."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..templating import make_environment
from .hosted import HostedPages
from .records import CheckoutRecord
from .service import ApiError

_ENV = make_environment()

# Pages load nothing from anywhere: inline styles only, forms post back to this server.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'"


def _amount(minor: int, currency: str) -> str:
    return f"{minor / 100:,.2f} {currency}".replace(",", " ")


def _render(
    name: str, status: int = 200, framers: Sequence[str] = (), **context: Any
) -> HTMLResponse:
    """A page that only ``framers`` (origins) may show in a frame; none by default."""
    html = _ENV.get_template(f"server/{name}").render(**context)
    headers = {"Content-Security-Policy": _CSP, "Cache-Control": "no-store"}
    if framers:
        headers["Content-Security-Policy"] += "; frame-ancestors " + " ".join(framers)
    else:
        headers["X-Frame-Options"] = "DENY"
        headers["Content-Security-Policy"] += "; frame-ancestors 'none'"
    return HTMLResponse(html, status_code=status, headers=headers)


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site(request: Request, own_origin: str) -> bool:
    """Whether a form post comes from another site's page. Browsers say where a post comes from
    (``Sec-Fetch-Site``, ``Origin``); a post from a third-party page must not pay a checkout or
    delete a card. Clients that send neither (curl, tests) are not browsers on another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    own = origin_of(own_origin) or own_origin.lower()
    return origin is not None and origin.lower().rstrip("/") != own


# The page forms hold a handful of short fields (a card number, an expiry, an action, a token):
# anything larger, longer or of another encoding (multipart, file parts) is refused before it is
# read, since these routes answer anyone who knows or guesses an id, without a key.
PAGE_FORM_BYTES = 4096
PAGE_FORM_FIELDS = 16
_FORM_TYPE = "application/x-www-form-urlencoded"


class _FormRefused(Exception):
    def __init__(self, status: int, what: str) -> None:
        super().__init__(what)
        self.status, self.what = status, what


async def page_form(request: Request) -> dict[str, str]:
    """A page form's fields, read bounded; raises :class:`_FormRefused` for anything else."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != _FORM_TYPE:
        raise _FormRefused(415, f"a form sent as {media or 'untyped data'}")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > PAGE_FORM_BYTES:
        raise _FormRefused(413, "a form this large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > PAGE_FORM_BYTES:
            raise _FormRefused(413, "a form this large")
    try:
        fields = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=PAGE_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise _FormRefused(400, "a form with this many fields or not UTF-8") from None
    return dict(fields)


def _not_found(what: str) -> HTMLResponse:
    return _render("not_found.html.j2", status=404, what=what)


def page_routes(
    pages: HostedPages,
    own_origin: Callable[[Request], str],
    frame_ancestors: Sequence[str] = (),
) -> list[Route]:
    """The routes of the hosted checkout page and the client page. ``own_origin`` is this
    server's origin as browsers see it; ``frame_ancestors`` are origins allowed to frame
    ``template: iframe`` checkouts besides the checkout's own ``returnUrl`` origin."""
    test_cards = pages.test_mode.hosted_page_cards
    test_numbers = {card.value for card in test_cards}

    def framers(checkout: CheckoutRecord) -> list[str]:
        if checkout["template"] != "iframe":
            return []
        allowed = [origin_of(str(checkout["returnUrl"])), *frame_ancestors]
        return list(dict.fromkeys(o for o in allowed if o))

    def refused(what: str) -> HTMLResponse:
        return _render("not_found.html.j2", status=403, what=what)

    def checkout_page(
        checkout: CheckoutRecord, notice: str | None = None, status: int = 200
    ) -> HTMLResponse:
        customer_can_save = bool(
            checkout["customer_id"]
            and checkout["allowSaveCard"]
            and checkout["status"] in pages.payable
        )
        return _render(
            "pay.html.j2",
            status=status,
            framers=framers(checkout),
            checkout=checkout,
            amount=_amount(checkout["amount"], checkout["currency"]),
            can_pay=checkout["status"] in pages.payable,
            can_save=customer_can_save,
            test_cards=test_cards if not checkout["livemode"] else (),
            notice=notice,
        )

    async def pay_get(request: Request) -> Response:
        checkout = pages.page_checkout(request.path_params["checkout_id"])
        if checkout is None:
            return _not_found("checkout")
        return checkout_page(checkout)

    async def pay_post(request: Request) -> Response:
        checkout_id = request.path_params["checkout_id"]
        if cross_site(request, own_origin(request)):
            return refused("payment from another site")
        try:
            form = await page_form(request)
        except _FormRefused as exc:
            return _render("not_found.html.j2", status=exc.status, what=exc.what)
        action = str(form.get("action", "pay"))
        try:
            if action == "cancel":
                result = pages.page_cancel(checkout_id)
                return RedirectResponse(result["returnUrlCancel"], status_code=303)
            number = "".join(ch for ch in str(form.get("card_number", "")) if ch.isdigit())
            if not 12 <= len(number) <= 19:
                checkout = pages.page_checkout(checkout_id)
                if checkout is None:
                    return _not_found("checkout")
                return checkout_page(checkout, "Enter a card number of 12 to 19 digits.", 422)
            if number in test_numbers:
                checkout = pages.page_checkout(checkout_id)
                if checkout is None:
                    return _not_found("checkout")
                if checkout["livemode"]:
                    return checkout_page(checkout, "Test card numbers work only in test mode.", 422)
            month, year = _expiry(str(form.get("expiry", "")))
            result = pages.page_pay(checkout_id, number, form.get("save_card") == "on", month, year)
        except ApiError as exc:
            if exc.http == 404:
                return _not_found("checkout")
            checkout = pages.page_checkout(checkout_id)
            assert checkout is not None
            return checkout_page(checkout, f"This checkout is {checkout['status']}.", 409)
        if result["status"] in pages.declined:
            return checkout_page(result, "The card was declined.")
        return RedirectResponse(result["returnUrl"], status_code=303)

    async def client_get(request: Request) -> Response:
        customer = pages.client_customer(
            request.path_params["customer_id"], request.query_params.get("token", "")
        )
        if customer is None:
            return _not_found("customer")
        return _render("customer.html.j2", customer=customer, token=request.query_params["token"])

    async def client_post(request: Request) -> Response:
        if cross_site(request, own_origin(request)):
            return refused("change from another site")
        try:
            form = await page_form(request)
        except _FormRefused as exc:
            return _render("not_found.html.j2", status=exc.status, what=exc.what)
        customer_id = request.path_params["customer_id"]
        token = str(form.get("token", ""))
        action = str(form.get("action", ""))
        if action not in ("delete", "default"):
            return _not_found("action")
        customer = pages.client_update_cards(
            customer_id, token, str(form.get("card_id", "")), action
        )
        if customer is None:
            return _not_found("customer")
        return RedirectResponse(f"/customer/{customer_id}?token={token}", status_code=303)

    return [
        Route("/pay/{checkout_id}", pay_get, methods=["GET"]),
        Route("/pay/{checkout_id}", pay_post, methods=["POST"]),
        Route("/customer/{customer_id}", client_get, methods=["GET"]),
        Route("/customer/{customer_id}", client_post, methods=["POST"]),
    ]


def _expiry(text: str) -> tuple[int, int]:
    """``MM/YY`` or ``MM/YYYY``; anything else means 12/2030 (test cards need no real expiry)."""
    month_text, _, year_text = text.strip().partition("/")
    try:
        month, year = int(month_text), int(year_text)
    except ValueError:
        return 12, 2030
    year = year + 2000 if year < 100 else year
    return (month, year) if 1 <= month <= 12 and 2000 <= year <= 2100 else (12, 2030)
