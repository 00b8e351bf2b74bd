"""The generator renders any valid OpenAPI 3.0 or 3.1 document, leaving out only what it lacks:
real documents from elsewhere, and small ones made to hold each awkward construct."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.docs import render_docs
from neuropay_contract.docs.markdown import markdown_text
from neuropay_contract.docs.model import DocsModel, anchor
from neuropay_contract.spec import ApiSpec, load_spec

from .._fixtures import REALSPECS
from ._html import check


def test_the_real_documents_are_there() -> None:
    # The parametrized test below would pass vacuously without them.
    assert len(REALSPECS) >= 4


@pytest.mark.parametrize("path", REALSPECS, ids=[p.name for p in REALSPECS])
def test_other_peoples_documents_render(path: Path, tmp_path: Path) -> None:
    spec = load_spec(path)
    written = render_docs(spec, tmp_path)
    assert {p.name for p in written} == {"index.html", "api.md"}  # no lifecycle, no diagram
    html = (tmp_path / "index.html").read_text()
    page = check(html)
    assert page.problems == [] and all(u.startswith("data:") for u in page.loads)
    ids = set(page.ids)
    md = (tmp_path / "api.md").read_text()
    for op in spec.operations.values():
        assert anchor(op.operation_id) in ids
        assert f"`{op.method} {op.path}`" in md
    for name in spec.document.get("webhooks") or {}:
        assert any(i.startswith("hook-") and name in i for i in ids)
        assert name in md
    for section in ("errors", "lifecycle", "test-mode"):
        assert section not in ids  # what the document lacks is left out, not shown empty
    assert spec.title in html


def _doc(**parts: Any) -> ApiSpec:
    return ApiSpec({"openapi": "3.0.3", "info": {"title": "Odd", "version": "1"}, **parts})


ODD_PATHS: dict[str, Any] = {
    "/nodes/{nodeId}": {
        "parameters": [
            {"name": "nodeId", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "get": {  # no operationId, no tags
            "parameters": [
                {
                    "name": "depth",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0, "default": 1},
                }
            ],
            "responses": {
                "200": {
                    "description": "A node",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
                    },
                },
                "default": {"$ref": "#/components/responses/Problem"},
            },
        },
        "put": {
            "operationId": "replaceNode",
            "requestBody": {"$ref": "#/components/requestBodies/NodeXml"},
            "responses": {"204": {"description": "Replaced"}},
        },
    },
    "/forms": {
        "post": {
            "operationId": "postForm",
            "security": [],
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string", "maxLength": 5}},
                        }
                    }
                }
            },
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                }
            },
        }
    },
}
ODD_COMPONENTS: dict[str, Any] = {
    "schemas": {
        "Node": {  # a $ref cycle through an array, and one through allOf
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "integer"},
                "label": {"type": "string", "nullable": True, "pattern": "^[a-z]+$"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "parent": {"allOf": [{"$ref": "#/components/schemas/Node"}]},
                "shape": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Circle"},
                        {"type": "string", "enum": ["dot"]},
                    ]
                },
                "tags": {
                    "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
                },
            },
        },
        "Circle": {
            "type": "object",
            "properties": {"radius": {"type": "number", "exclusiveMinimum": 0}},
        },
    },
    "responses": {
        "Problem": {
            "description": "A problem",
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        }
    },
    "requestBodies": {
        "NodeXml": {
            "content": {
                "application/xml": {
                    "schema": {"$ref": "#/components/schemas/Node"},
                    "example": "<node id='1'/>",
                }
            }
        }
    },
    "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
}


def test_awkward_constructs_render(tmp_path: Path) -> None:
    spec = _doc(
        paths=ODD_PATHS,
        components=ODD_COMPONENTS,
        security=[{"key": []}],
        servers=[
            {
                "url": "{scheme}://odd.example/{base}",
                "variables": {"scheme": {"default": "https"}, "base": {"default": "v2"}},
            }
        ],
    )
    render_docs(spec, tmp_path)
    html = (tmp_path / "index.html").read_text()
    assert check(html).problems == []
    assert 'id="op-GET-nodes-nodeId"' in html  # a missing operationId becomes METHOD path
    model = DocsModel(spec)
    assert model.base_url == "https://odd.example/v2"
    get = model.operation(spec.operation("GET /nodes/{nodeId}"))
    assert "https://odd.example/v2/nodes/{nodeId}?depth=1" in get.samples.curl
    assert "curl -sS -g" in get.samples.curl  # braces are a placeholder, not a curl glob
    assert "-H 'X-Key: '\"$API_KEY\"" in get.samples.curl
    assert "os.environ['API_KEY']" in get.samples.python
    put = model.operation(spec.operation("replaceNode"))
    assert put.media_type == "application/xml"
    fields = {f.name: f for f in put.fields}
    assert fields["label"].type == "string" and "nullable" in fields["label"].constraints
    assert fields["children"].type == "array of Node" and fields["parent"].type == "Node"
    assert fields["shape"].type == "Circle or string"
    assert 'one of "dot"' in fields["shape"].constraints
    assert fields["tags"].type == "array of string" and "nullable" in fields["tags"].constraints
    assert "children" in fields and "parent.id" not in fields  # a cycle is named, not expanded
    assert not any(name.count("children") > 2 for name in fields)
    assert "application/xml" in put.samples.curl and "<node id='1'/>" in put.samples.curl
    assert "content=\"<node id='1'/>\"" in put.samples.python
    form = model.operation(spec.operation("postForm"))
    assert "--data-urlencode name=string" in form.samples.curl  # body made from the schema
    assert "data={" in form.samples.python and "URLSearchParams" in form.samples.javascript
    assert "API_KEY" not in form.samples.curl  # security: [] means no key
    assert "print(response.text)" in form.samples.python


def test_openapi_31_type_arrays_and_webhooks_without_paths(tmp_path: Path) -> None:
    spec = ApiSpec(
        {
            "openapi": "3.1.0",
            "info": {"title": "Hooks", "version": "1"},
            "webhooks": {
                "orderPaid": {
                    "post": {
                        "summary": "An order was paid",
                        "requestBody": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "note": {"type": ["string", "null"], "maxLength": 3},
                                            "n": {"type": ["integer", "string"]},
                                        },
                                    }
                                }
                            }
                        },
                        "responses": {"200": {"description": "Received"}},
                    }
                }
            },
        }
    )
    render_docs(spec, tmp_path)
    html = (tmp_path / "index.html").read_text()
    assert 'id="webhooks"' in html and "An order was paid" in html
    hook = DocsModel(spec).webhooks()[0]
    fields = {f.name: f for f in hook.fields}
    assert fields["note"].type == "string" and "nullable" in fields["note"].constraints
    assert "length ≤ 3" in fields["note"].constraints
    assert fields["n"].type == "integer or string"


def test_a_document_with_nothing_but_info(tmp_path: Path) -> None:
    render_docs(_doc(), tmp_path)
    html = (tmp_path / "index.html").read_text()
    assert check(html).problems == [] and "<h1" in html


def test_a_ref_cycle_or_external_ref_in_a_schema_does_not_crash(tmp_path: Path) -> None:
    components = copy.deepcopy(ODD_COMPONENTS)
    components["schemas"]["Loop"] = {"$ref": "#/components/schemas/Loop2"}
    components["schemas"]["Loop2"] = {"$ref": "#/components/schemas/Loop"}
    components["schemas"]["Node"]["properties"]["loop"] = {"$ref": "#/components/schemas/Loop"}
    components["schemas"]["Node"]["properties"]["far"] = {"$ref": "other.yaml#/Far"}
    spec = _doc(paths=ODD_PATHS, components=components)
    render_docs(spec, tmp_path)
    fields = {f.name: f for f in DocsModel(spec).operation(spec.operation("replaceNode")).fields}
    assert fields["loop"].type == "Loop" and fields["far"].type == "any"


def test_markdown_text_escapes_html_outside_code_spans() -> None:
    assert markdown_text("a <b> `x <y>` c") == "a &lt;b> `x <y>` c"
    assert re.fullmatch(r"op-[A-Za-z0-9_-]+", anchor("GET /a/{b}"))
