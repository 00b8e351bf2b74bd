"""A large, realistic OpenAPI 3.0 document generated in code, for benchmarks and tests that need size.

Shaped like a big public payments API: about 60 resources with list/create/retrieve/update/delete
and actions, form-urlencoded bodies (most writes), JSON and multipart bodies, global HTTP basic and
bearer auth with a few public or API-key operations, path, query and header parameters, shared
component schemas with formats, enums, nullable and nested references, examples on some
responses. Deterministic: the same arguments give the same document.

``python -m neuropay_contract.benchmarks.large_spec DIR`` writes ``large.yaml`` and ``large.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

NOUNS = [
    "account",
    "application",
    "balance",
    "bank_account",
    "card",
    "charge",
    "coupon",
    "credit_note",
    "customer",
    "discount",
    "dispute",
    "event",
    "file",
    "invoice",
    "invoice_item",
    "mandate",
    "order",
    "payment_intent",
    "payment_link",
    "payment_method",
    "payout",
    "plan",
    "price",
    "product",
    "promotion_code",
    "quote",
    "refund",
    "review",
    "setup_intent",
    "shipping_rate",
    "source",
    "subscription",
    "subscription_item",
    "tax_code",
    "tax_rate",
    "terminal_reader",
    "token",
    "topup",
    "transfer",
    "webhook_endpoint",
    "report_run",
    "review_note",
    "checkout_session",
    "climate_order",
    "customer_session",
    "entitlement",
    "feature",
    "financial_account",
    "forwarding_request",
    "identity_report",
    "issuing_card",
    "issuing_cardholder",
    "meter",
    "meter_event",
    "payment_record",
    "reader_location",
    "test_clock",
    "treasury_transfer",
    "billing_portal",
    "apple_pay_domain",
    "ephemeral_key",
    "radar_rule",
    "value_list",
]
GROUPS = ("Core", "Billing", "Payments", "Connect", "Issuing", "Terminal", "Treasury", "Radar")
ERROR = {"$ref": "#/components/responses/Error"}
PAGE_PARAMS = [
    {"$ref": "#/components/parameters/Limit"},
    {"$ref": "#/components/parameters/StartingAfter"},
    {"$ref": "#/components/parameters/Expand"},
]


def _camel(noun: str) -> str:
    return "".join(part.capitalize() for part in noun.split("_"))


def _resource_schema(noun: str, index: int, nouns: list[str]) -> dict[str, Any]:
    """An object with a dozen typed, described fields and a nested reference."""
    other = nouns[(index + 1) % len(nouns)]
    props: dict[str, Any] = {
        "id": {
            "type": "string",
            "description": f"Unique identifier of the {noun}.",
            "example": f"{noun[:3]}_1Nx",
        },
        "object": {
            "type": "string",
            "enum": [noun],
            "description": "String representing the object's type.",
        },
        "amount": {
            "type": "integer",
            "format": "int64",
            "minimum": 0,
            "description": f"Amount of the {noun} in the smallest currency unit.",
        },
        "count": {"type": "integer", "format": "int32", "description": "How many items it covers."},
        "currency": {
            "type": "string",
            "pattern": "^[a-z]{3}$",
            "example": "usd",
            "description": "Three-letter ISO currency code, lowercase.",
        },
        "created": {"type": "string", "format": "date-time", "description": "When it was created."},
        "email": {
            "type": "string",
            "format": "email",
            "nullable": True,
            "description": "Contact address, if any.",
        },
        "external_id": {
            "type": "string",
            "format": "uuid",
            "description": "Your own identifier for it.",
        },
        "livemode": {"type": "boolean", "description": "Whether it exists in live mode."},
        "rate": {"type": "number", "format": "double", "description": "A rate applied to it."},
        "status": {
            "type": "string",
            "enum": ["draft", "open", "paid", "void", "uncollectible"],
            "description": f"The status of the {noun}.",
        },
        "metadata": {
            "type": "object",
            "additionalProperties": {"type": "string", "maxLength": 500},
            "description": "Your key-value pairs.",
        },
        "related": {
            "allOf": [{"$ref": f"#/components/schemas/{_camel(other)}Summary"}],
            "nullable": True,
            "description": f"The {other} it belongs to.",
        },
        "lines": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/LineItem"},
            "description": "Line items.",
        },
    }
    return {
        "type": "object",
        "title": _camel(noun),
        "description": f"A {noun.replace('_', ' ')} object of the API.",
        "required": ["id", "object", "created", "livemode", "status"],
        "properties": props,
    }


def _summary_schema(noun: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "description": f"Identifier of the {noun}."},
            "name": {"type": "string", "maxLength": 200, "description": "Display name."},
        },
    }


def _form_body(noun: str, required: bool) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "amount": {
                "type": "integer",
                "minimum": 1,
                "description": "Amount in the smallest unit.",
            },
            "currency": {
                "type": "string",
                "pattern": "^[a-z]{3}$",
                "description": "ISO code, lowercase.",
            },
            "description": {
                "type": "string",
                "maxLength": 5000,
                "description": f"Shown to the {noun}'s owner.",
            },
            "email": {"type": "string", "format": "email"},
            "capture_method": {
                "type": "string",
                "enum": ["automatic", "manual"],
                "default": "automatic",
            },
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            "expand": {"type": "array", "items": {"type": "string", "maxLength": 5000}},
        },
        "additionalProperties": False,
    }
    if required:
        schema["required"] = ["currency", "amount"]
    return {
        "required": required,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": schema,
                "encoding": {"metadata": {"style": "deepObject", "explode": True}},
            }
        },
    }


def _ok(noun: str, list_of: bool = False, example: bool = False) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{_camel(noun)}"}
    schema: dict[str, Any] = ref
    if list_of:
        schema = {
            "type": "object",
            "required": ["object", "data", "has_more", "url"],
            "properties": {
                "object": {"type": "string", "enum": ["list"]},
                "data": {"type": "array", "items": ref},
                "has_more": {"type": "boolean"},
                "url": {"type": "string", "maxLength": 5000},
            },
        }
    media: dict[str, Any] = {"schema": schema}
    if example and not list_of:
        media["example"] = {
            "id": f"{noun[:3]}_1Nx",
            "object": noun,
            "created": "2026-01-01T00:00:00Z",
            "livemode": False,
            "status": "open",
        }
    return {
        "200": {"description": "Successful response.", "content": {"application/json": media}},
        "default": ERROR,
    }


def _operations(noun: str, index: int, tag: str) -> dict[str, Any]:
    """The paths of one resource: 6 to 10 operations depending on its index."""
    plural = f"/v1/{noun}s"
    item = f"{plural}/{{{noun}}}"
    name = _camel(noun)
    id_param = {
        "name": noun,
        "in": "path",
        "required": True,
        "description": f"The identifier of the {noun}.",
        "schema": {"type": "string", "maxLength": 5000},
    }
    paths: dict[str, Any] = {
        plural: {
            "get": {
                "operationId": f"Get{name}s",
                "summary": f"List all {noun.replace('_', ' ')}s",
                "description": f"Returns a list of your {noun.replace('_', ' ')}s, newest first.",
                "tags": [tag],
                "parameters": [
                    *PAGE_PARAMS,
                    {
                        "name": "created",
                        "in": "query",
                        "schema": {"type": "integer", "format": "int64"},
                        "description": "Only those created at this Unix time.",
                    },
                ],
                "responses": _ok(noun, list_of=True),
            },
            "post": {
                "operationId": f"Post{name}s",
                "summary": f"Create a {noun.replace('_', ' ')}",
                "description": f"Creates a new {noun.replace('_', ' ')} object.",
                "tags": [tag],
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": _form_body(noun, required=True),
                "responses": _ok(noun, example=True),
            },
        },
        item: {
            "parameters": [id_param],
            "get": {
                "operationId": f"Get{name}s{name}",
                "summary": f"Retrieve a {noun.replace('_', ' ')}",
                "description": f"Retrieves the details of an existing {noun.replace('_', ' ')}.",
                "tags": [tag],
                "parameters": [{"$ref": "#/components/parameters/Expand"}],
                "responses": _ok(noun, example=True),
            },
            "post": {
                "operationId": f"Post{name}s{name}",
                "summary": f"Update a {noun.replace('_', ' ')}",
                "description": "Updates the fields you pass; others stay unchanged.",
                "tags": [tag],
                "requestBody": _form_body(noun, required=False),
                "responses": _ok(noun),
            },
            "delete": {
                "operationId": f"Delete{name}s{name}",
                "summary": f"Delete a {noun.replace('_', ' ')}",
                "description": "Permanently deletes it. It cannot be undone.",
                "tags": [tag],
                "responses": _ok(noun),
            },
        },
        f"{item}/cancel": {
            "post": {
                "operationId": f"Post{name}s{name}Cancel",
                "summary": f"Cancel a {noun.replace('_', ' ')}",
                "description": "Cancels it when it is still open.",
                "tags": [tag],
                "parameters": [id_param],
                "requestBody": _form_body(noun, required=False),
                "responses": _ok(noun),
            }
        },
    }
    if index % 2 == 0:
        paths[f"{plural}/search"] = {
            "get": {
                "operationId": f"Get{name}sSearch",
                "summary": f"Search {noun.replace('_', ' ')}s",
                "description": "Searches with the query language.",
                "tags": [tag],
                "parameters": [
                    {
                        "name": "query",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string"},
                        "example": "status:'open'",
                    },
                    {"name": "page", "in": "query", "schema": {"type": "string"}},
                    {"$ref": "#/components/parameters/Limit"},
                ],
                "responses": _ok(noun, list_of=True),
            }
        }
    if index % 3 == 0:
        paths[f"{item}/attachments"] = {
            "post": {
                "operationId": f"Post{name}s{name}Attachments",
                "summary": f"Attach a file to a {noun.replace('_', ' ')}",
                "description": "Uploads a file (multipart).",
                "tags": [tag],
                "parameters": [id_param],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file", "purpose"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "purpose": {
                                        "type": "string",
                                        "enum": ["dispute_evidence", "identity_document"],
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": _ok(noun),
            }
        }
    if index % 4 == 1:
        paths[f"{item}/notes"] = {
            "put": {
                "operationId": f"Put{name}s{name}Notes",
                "summary": f"Replace the notes of a {noun.replace('_', ' ')}",
                "description": "Sends JSON and authenticates with a separate API key header.",
                "tags": [tag],
                "parameters": [
                    id_param,
                    {
                        "name": "X-Request-Source",
                        "in": "header",
                        "schema": {"type": "string", "enum": ["dashboard", "api"]},
                    },
                ],
                "security": [{"apiKeyHeader": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Notes"}}
                    },
                },
                "responses": _ok(noun),
            }
        }
    if index % 5 == 2:
        paths[f"/v1/public/{noun}s/{{{noun}}}/status"] = {
            "get": {
                "operationId": f"GetPublic{name}sStatus",
                "summary": f"Public status of a {noun.replace('_', ' ')}",
                "description": "Needs no credentials.",
                "tags": [tag],
                "security": [],
                "parameters": [id_param],
                "responses": _ok(noun),
            }
        }
    return paths


def build_large_spec(resources: int = len(NOUNS)) -> dict[str, Any]:
    """The document, with ``resources`` resources (the default gives well over 400 operations)."""
    nouns = [
        NOUNS[i % len(NOUNS)] + ("" if i < len(NOUNS) else f"_{i // len(NOUNS)}")
        for i in range(resources)
    ]
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "LineItem": {
            "type": "object",
            "required": ["id", "quantity"],
            "properties": {
                "id": {"type": "string"},
                "quantity": {"type": "integer", "minimum": 1},
                "unit_amount": {"type": "integer", "format": "int64"},
                "period": {
                    "type": "object",
                    "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}},
                },
            },
        },
        "Notes": {
            "type": "object",
            "required": ["text"],
            "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                "pinned": {"type": "boolean", "default": False},
                "author_email": {"type": "string", "format": "email"},
            },
            "additionalProperties": False,
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {
                            "type": "string",
                            "enum": ["api_error", "card_error", "invalid_request_error"],
                        },
                        "message": {"type": "string"},
                        "param": {"type": "string"},
                    },
                }
            },
        },
    }
    for index, noun in enumerate(nouns):
        tag = GROUPS[index % len(GROUPS)]
        paths.update(_operations(noun, index, tag))
        schemas[_camel(noun)] = _resource_schema(noun, index, nouns)
        schemas[f"{_camel(noun)}Summary"] = _summary_schema(noun)
    return {
        "openapi": "3.0.0",
        "info": {
            "title": "Large Payments API",
            "version": "2026-01-01",
            "description": "A generated document the size of a big public payments API.",
        },
        "servers": [{"url": "https://api.large-payments.example"}],
        "security": [{"basicAuth": []}, {"bearerAuth": []}],
        "tags": [{"name": g, "description": f"{g} resources."} for g in GROUPS],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "Secret key as user.",
                },
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Secret key as bearer token.",
                },
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Notes-Key"},
            },
            "parameters": {
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "description": "Page size, 1 to 100.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                },
                "StartingAfter": {
                    "name": "starting_after",
                    "in": "query",
                    "description": "Cursor: an object id.",
                    "schema": {"type": "string", "maxLength": 5000},
                },
                "Expand": {
                    "name": "expand",
                    "in": "query",
                    "description": "Fields to expand.",
                    "schema": {"type": "array", "items": {"type": "string"}},
                    "style": "form",
                    "explode": True,
                },
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "description": "Makes a retry safe.",
                    "schema": {"type": "string", "maxLength": 255},
                },
            },
            "responses": {
                "Error": {
                    "description": "Error response.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
            "schemas": schemas,
        },
    }


def count_operations(document: dict[str, Any]) -> int:
    methods = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    return sum(1 for item in document["paths"].values() for key in item if key in methods)


def write_large_spec(directory: Path, resources: int = len(NOUNS)) -> tuple[Path, Path]:
    """Write the document as ``large.yaml`` and ``large.json`` in ``directory``."""
    document = build_large_spec(resources)
    directory.mkdir(parents=True, exist_ok=True)
    as_yaml, as_json = directory / "large.yaml", directory / "large.json"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    as_yaml.write_text(yaml.dump(document, Dumper=dumper, sort_keys=False), encoding="utf-8")
    as_json.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return as_yaml, as_json


if __name__ == "__main__":
    for written in write_large_spec(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(written)
