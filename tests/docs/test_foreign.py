"""Docs of someone else's spec carry nothing of Neuro-Pay's: its own title, servers and
credential variables, and a search that finds operations by what their descriptions say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.docs import render_docs
from neuropay_contract.docs.search import PHRASE_LIMIT, _plain
from neuropay_contract.spec import ApiSpec, load_spec

from .._fixtures import REALSPECS

PAYMENTS: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Acme Payments", "version": "7"},
    "servers": [{"url": "https://api.acme.example"}],
    "security": [{"token": []}],
    "paths": {
        "/v1/refunds": {
            "get": {"operationId": "GetRefunds", "summary": "List refunds",
                    "description": "Returns the refunds you made, newest first.",
                    "responses": {"200": {"description": "ok"}}},
            "post": {"operationId": "PostRefunds", "summary": "Refunds",
                     "description": "When you create a refund, the money goes back to the card.",
                     "responses": {"200": {"description": "ok"}}},
        },
        "/v1/charges": {
            "post": {"operationId": "PostCharges", "summary": "Charge a card",
                     "description": "Creates a charge.",
                     "security": [{"key": []}],
                     "responses": {"200": {"description": "ok"}}},
        },
    },
    "components": {"securitySchemes": {
        "token": {"type": "http", "scheme": "bearer"},
        "key": {"type": "apiKey", "in": "header", "name": "X-Acme-Key"},
    }},
}  # fmt: skip


@pytest.mark.parametrize("path", REALSPECS, ids=[p.name for p in REALSPECS])
def test_no_neuropay_defaults_in_foreign_docs(path: Path, tmp_path: Path) -> None:
    spec = load_spec(path)
    render_docs(spec, tmp_path)
    for name in ("index.html", "api.md"):
        text = (tmp_path / name).read_text()
        assert "NEUROPAY" not in text and "Neuro-Pay" not in text and "paiwise" not in text
        assert spec.title in text


def test_samples_use_the_specs_servers_and_scheme_names(tmp_path: Path) -> None:
    render_docs(ApiSpec(PAYMENTS), tmp_path)
    md = (tmp_path / "api.md").read_text()
    assert "call `https://api.acme.example`" in md
    assert '-H "Authorization: Bearer $BEARER_TOKEN"' in md
    assert "-H 'X-Acme-Key: '\"$API_KEY\"" in md
    assert "os.environ['BEARER_TOKEN']" in md


def test_no_reference_server_port_for_a_foreign_spec_without_servers(tmp_path: Path) -> None:
    document = {**PAYMENTS, "servers": [{"url": "/api"}]}
    render_docs(ApiSpec(document), tmp_path, ["md"])
    assert "call `http://localhost/api`" in (tmp_path / "api.md").read_text()
    del document["servers"]
    render_docs(ApiSpec(document), tmp_path, ["md"])
    assert "call `http://localhost`" in (tmp_path / "api.md").read_text()


@pytest.mark.browser
def test_search_finds_what_descriptions_say(tmp_path: Path, page: Any) -> None:
    render_docs(ApiSpec(PAYMENTS), tmp_path, ["html"])
    browser = page.page
    browser.goto((tmp_path / "index.html").as_uri())
    browser.fill("#search", "create a refund")
    hits = browser.locator("#results a")
    assert "PostRefunds" in hits.first.text_content()
    browser.fill("#search", "refunds newest")  # words from the summary and the description
    assert "GetRefunds" in hits.first.text_content()
    browser.fill("#search", "/v1/charges")  # a path
    assert "PostCharges" in hits.first.text_content()
    browser.fill("#search", "PostRef")  # an id prefix ranks first
    assert "PostRefunds" in hits.first.text_content()
    browser.fill("#search", "refund zebra")  # every word must match
    assert browser.locator("#results .none").text_content() == "No match"
    assert page.console_errors == [] and page.outside_requests == []


def _index(folder: Path) -> dict[str, Any]:
    html = (folder / "index.html").read_text()
    start = html.index('<script type="application/json" id="search-index">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    parsed: dict[str, Any] = json.loads(body.replace("<\\/", "</"))
    return parsed


def test_the_index_holds_every_word_of_a_long_description_once(tmp_path: Path) -> None:
    """PayPal's orders.patch describes its patchable paths 2,500 characters in: indexed too,
    and the index stays small: no text twice, no word twice past the phrase head."""
    paypal = next(p for p in REALSPECS if "paypal" in p.name)
    spec = load_spec(paypal)
    render_docs(spec, tmp_path, ["html"])
    index = _index(tmp_path)
    patch = next(e for e in index["entries"] if e["name"] == "orders.patch")
    text = index["texts"][patch["t"]]
    description = spec.operations["orders.patch"].raw["description"]
    assert description.index("client_configuration") > 2000
    assert "client_configuration" in text
    assert len(text) < len(description) / 2  # the words, not the markup and repetitions
    assert len(index["texts"]) == len(set(index["texts"]))
    assert len(index["texts"]) < len(index["entries"]) / 2  # shared field descriptions
    size = len(json.dumps(index, ensure_ascii=False))
    assert size < 0.35 * (tmp_path / "index.html").stat().st_size


def test_a_long_text_keeps_its_head_and_each_later_word_once() -> None:
    long = "Head words here. " * 30 + "the <b>zebra</b> crossing; zebra again " * 50 + "omega"
    text = _plain(long)
    assert text.startswith("Head words here.")
    assert text.count("zebra") == 1 and text.endswith("omega")
    assert len(text) <= PHRASE_LIMIT + len(" zebra crossing; again omega")


@pytest.mark.browser
def test_search_finds_a_word_deep_in_a_long_description(tmp_path: Path, page: Any) -> None:
    paypal = next(p for p in REALSPECS if "paypal" in p.name)
    render_docs(load_spec(paypal), tmp_path, ["html"])
    browser = page.page
    browser.goto((tmp_path / "index.html").as_uri())
    browser.fill("#search", "client_configuration")
    hits = browser.locator("#results a")
    assert "orders.patch" in (hits.first.text_content() or "")
    assert hits.count() <= 15  # the page of results stays bounded
    assert page.console_errors == [] and page.outside_requests == []


INVISIBLE = [
    "\x1b[2J",
    "\x1b]8;;http://evil\x07",
    "\u202e",
    "\u2066",
    "\u200b",
    "\x85",
    "\x7f",
    "\r",
]


def test_control_and_bidi_characters_from_a_spec_are_escaped_in_api_md(tmp_path: Path) -> None:
    """Whatever a spec holds in titles, descriptions, names or examples, api.md (read raw in
    terminals and editors) shows control and bidi characters as escapes."""
    odd = "".join(INVISIBLE)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": f"T{odd}", "version": "1", "description": f"D{odd}"},
        "paths": {
            f"/x{odd}": {
                "post": {
                    "operationId": f"Op{odd}",
                    "summary": f"S{odd}",
                    "description": f"Desc{odd}",
                    "parameters": [
                        {
                            "name": f"p{odd}",
                            "in": "query",
                            "example": odd,
                            "description": odd,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        f"f{odd}": {"type": "string", "description": odd}
                                    },
                                },
                                "example": {"note": odd},
                            }
                        }
                    },
                    "responses": {"200": {"description": f"ok{odd}"}},
                }
            }
        },
    }
    render_docs(ApiSpec(document), tmp_path, formats=("md",))
    md = (tmp_path / "api.md").read_text()
    for char in "\x1b\x07\u202e\u2066\u200b\x85\x7f\r":
        assert char not in md, repr(char)
    assert "\\x1b" in md and "\\u202e" in md
