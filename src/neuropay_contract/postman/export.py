"""The project's Postman export: the converted collection plus test scripts, chained ids, a
"Scenarios" folder generated from x-lifecycle, and one environment per target."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lifecycle import Transition, creation_facts, plan, wanted_capture
from ..lifecycle import request_for as request_for_facts
from ..lifecycle.guards import SUCCESS
from ..outputs import ensure_dir, write_text
from ..spec import ApiSpec
from ..traffic.exchange import EXPECT_HEADER_NAME
from .convert import convert, request_for, stable_id
from .foreign import foreign_collection, foreign_export_files

COLLECTION_FILE = "neuropay.postman_collection.json"
ENVIRONMENTS = {
    "reference": ("Neuro-Pay reference server (neuropay mock)", "http://127.0.0.1:8080"),
    "test": ("Neuro-Pay test (test key)", "https://api.paiwise.com"),
    "live": ("Neuro-Pay live (live key)", "https://api.paiwise.com"),
}
ID_FIELDS = ("checkout_id", "customer_id")
AMOUNT = 3000
PARTIAL = 1000
DROP = {"description", "examples", "example", "dependentRequired", "x-error-codes"}


def ajv_schema(spec: ApiSpec, schema: Any) -> Any:
    """A schema Newman's validator (Ajv, draft-07) reads: refs inlined, annotations dropped."""

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: clean(v) for k, v in node.items() if k not in DROP and not k.startswith("x-")
            }
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    return clean(spec.inline_refs(schema))


@dataclass
class Step:
    """One request of a scenario and what its test script asserts."""

    name: str
    operation: str
    body: dict[str, Any]
    http: int = 200
    status: str | None = None  # expected checkout status
    code: str | None = None  # expected error code
    unchanged: bool = False  # compare with the snapshot of the last checkout answer
    sets: list[str] = field(default_factory=list)

    @property
    def refusal(self) -> str | None:
        """The refusal this step provokes on purpose, as ``X-Neuropay-Expect`` declares it."""
        return f"{self.http} {self.code}" if self.code is not None else None


def _script(spec: ApiSpec, step: Step, schema_names: dict[str, str]) -> list[str]:
    op = spec.operation(step.operation)
    documented = op.responses.get(str(step.http))
    lines = [
        "const body = pm.response.json();",
        f'pm.test("HTTP {step.http}", function () {{ pm.response.to.have.status({step.http}); }});',
    ]
    if documented is not None and documented.schema is not None:
        variable = schema_names.setdefault(
            json.dumps(documented.schema, sort_keys=True), f"schema_{len(schema_names)}"
        )
        lines.append(
            f'pm.test("body matches the spec\'s schema for {step.http}", function () '
            f'{{ pm.response.to.have.jsonSchema(JSON.parse(pm.collectionVariables.get("{variable}"))); }});'
        )
    if step.status is not None:
        lines.append(
            f'pm.test("checkout status is {step.status}", function () {{ pm.expect(body.status).to.eql({json.dumps(step.status)}); }});'
        )
    if step.code is not None:
        lines.append(
            f'pm.test("error code is {step.code}", function () {{ pm.expect(body.error.code).to.eql({json.dumps(step.code)}); }});'
        )
    if step.unchanged:
        lines.append(
            'pm.test("nothing changed after the refusal", function () { pm.expect(body).to.eql(JSON.parse(pm.collectionVariables.get("snapshot"))); });'
        )
    for name in step.sets:
        lines.append(f'if (body.{name}) {{ pm.collectionVariables.set("{name}", body.{name}); }}')
    lines.append(
        'if (pm.response.code === 200 && body.object === "checkout") { pm.collectionVariables.set("snapshot", JSON.stringify(body)); }'
    )
    return lines


class ScenarioBuilder:
    """Turns x-lifecycle into request sequences with the answers the spec prescribes."""

    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self.lifecycle = spec.require_lifecycle()
        tm = spec.test_mode
        self.card_ids = {c.outcome: c.value for c in tm.card_ids} if tm else {}
        self.card_numbers = {c.outcome: c.value for c in tm.hosted_page_cards} if tm else {}

    def _create_body(self, capture: bool, **extra: Any) -> dict[str, Any]:
        return {
            "amount": AMOUNT,
            "currency": "SEK",
            "message": "Postman scenario",
            "capture": capture,
            "returnUrl": "https://shop.example.com/thanks",
            "returnUrlCancel": "https://shop.example.com/cart",
            "metaData": {"source": "postman"},
            **extra,
        }

    def perform(self, t: Transition, capture: bool, refunded: int) -> tuple[list[Step], int]:
        """Steps performing ``t`` and the refunded total afterwards."""
        op = self.lifecycle.trigger_operation(t)
        assert op is not None
        steps: list[Step] = []
        creation = t.source is None
        cards = self.card_ids if creation else self.card_numbers
        fields = request_for_facts(
            t.guard, creation=creation, card=lambda outcome: cards.get(outcome, ""), partial=PARTIAL
        )
        if creation:
            if "card_id" in fields:  # a card is charged for a customer
                steps.append(
                    Step(
                        "create a test customer",
                        "createCustomer",
                        {
                            "first_name": "Postman",
                            "last_name": "Scenario",
                            "email": "postman@example.com",
                        },
                        sets=["customer_id"],
                    )
                )
                fields = {"customer_id": "{{customer_id}}", **fields}
            create = self._create_body(capture, **fields)
            steps.append(
                Step(f"{op} → {t.target}", op, create, status=t.target, sets=["checkout_id"])
            )
            return steps, 0
        body: dict[str, Any] = {"checkout_id": "{{checkout_id}}", **fields}
        if t.effect == "refund":
            refunded = refunded + int(body.get("amount", AMOUNT - refunded))
        steps.append(Step(f"{op} → {t.target}", op, body, status=t.target))
        return steps, refunded

    def reach(self, status: str, capture: bool | None = None) -> tuple[list[Step], int]:
        steps: list[Step] = []
        refunded = 0
        for t, flag in plan(self.lifecycle, status, capture):
            more, refunded = self.perform(t, flag, refunded)
            steps += more
        return steps, refunded

    def retrieve(self, status: str, unchanged: bool = False) -> Step:
        return Step(
            "retrieve",
            "retrieveCheckout",
            {"checkout_id": "{{checkout_id}}"},
            status=status,
            unchanged=unchanged,
        )

    def scenarios(self) -> Iterator[tuple[str, list[Step]]]:
        for t in self.lifecycle.transitions:
            capture = wanted_capture(t.guard)
            steps, refunded = self.reach(t.source, capture) if t.source else ([], 0)
            more, _ = self.perform(t, capture is not False, refunded)
            yield (
                f"transition {t.name}: {t.source or 'new'} → {t.target}",
                [*steps, *more, self.retrieve(t.target)],
            )
        for f in self.lifecycle.forbidden:
            steps, _ = self.reach(f.status)
            body: dict[str, Any] = {"checkout_id": "{{checkout_id}}"}
            if "card_number" in json.dumps(
                self.spec.operation(f.operation).request_schema or {}
            ) or f.operation in (self.spec.test_mode.helpers if self.spec.test_mode else {}):
                properties = self.spec.deref(
                    self.spec.operation(f.operation).request_schema or {}
                ).get("properties", {})
                if "card_number" in properties:
                    body["card_number"] = self.card_numbers.get(SUCCESS, "")
            refusal = Step(
                f"{f.operation} is refused in {f.status}",
                f.operation,
                body,
                http=f.answer.http,
                code=f.answer.code,
            )
            yield (
                f"forbidden: {f.operation} in {f.status}",
                [*steps, refusal, self.retrieve(f.status, unchanged=True)],
            )
        for r in self.lifecycle.rejections:
            steps, refunded = self.reach(r.source)
            remaining = AMOUNT - refunded
            fields = request_for_facts(
                [r.guard],
                creation=False,
                card=lambda outcome: self.card_numbers.get(outcome, ""),
                remaining=remaining,
                partial=remaining // 2,
            )
            refusal = Step(
                f"{r.operation} with {r.guard} is refused in {r.source}",
                r.operation,
                {"checkout_id": "{{checkout_id}}", **fields},
                http=r.answer.http,
                code=r.answer.code,
            )
            yield (
                f"rejected: {r.operation} with {r.guard} in {r.source}",
                [*steps, refusal, self.retrieve(r.source, unchanged=True)],
            )


def _item(
    spec: ApiSpec, folder: str, index: int, step: Step, schema_names: dict[str, str]
) -> dict[str, Any]:
    op = spec.operation(step.operation)
    request = request_for(spec, op, step.body)
    if step.refusal is not None:
        declare_refusal(request, step.refusal)
    return {
        "id": stable_id("scenario", folder, str(index)),
        "name": step.name,
        "request": request,
        "event": [
            {
                "listen": "test",
                "script": {"type": "text/javascript", "exec": _script(spec, step, schema_names)},
            }
        ],
        "response": [],
    }


def declare_refusal(request: dict[str, Any], answer: str) -> None:
    """Say in the request that its refusal is deliberate, so that `neuropay proxy` does not count
    a negative test as a client's mistake (it still checks the server's answer)."""
    request.setdefault("header", []).append({"key": EXPECT_HEADER_NAME, "value": answer})


def _generic_refusals(spec: ApiSpec, operations: list[str]) -> dict[int, str]:
    """Which requests of the tag folders the lifecycle refuses: they run in order on the one
    checkout the folder's create makes (position -> "409 invalid_status")."""
    lifecycle = spec.lifecycle
    if lifecycle is None:
        return {}
    refused: dict[int, str] = {}
    status: str | None = None
    for index, operation in enumerate(operations):
        if operation == "createCheckout":
            # The folder's create sends no card: the status creation without one leads to.
            created = lifecycle.decide(None, operation, creation_facts({}, None))
            status = created.target if isinstance(created, Transition) else None
        elif status is not None and operation in lifecycle.restricted_operations:
            answer = lifecycle.forbidden_answer(status, operation)
            if answer is not None:
                refused[index] = f"{answer.http} {answer.code}"
                continue
            moves = lifecycle.transitions_from(status, operation)
            status = moves[0].target if len(moves) == 1 else None
    return refused


def _with_generic_tests(
    spec: ApiSpec, collection: dict[str, Any], schema_names: dict[str, str]
) -> None:
    """Requests of the tag folders use the chained ids and accept any documented answer."""
    by_request = {stable_id("request", op.operation_id): op for op in spec.operations.values()}
    order = [
        by_request[item["id"]].operation_id
        for folder in collection["item"]
        for item in folder["item"]
    ]
    refusals = _generic_refusals(spec, order)
    position = -1
    for folder in collection["item"]:
        for item in folder["item"]:
            op = by_request[item["id"]]
            position += 1
            if position in refusals:
                declare_refusal(item["request"], refusals[position])
            raw = item["request"].get("body", {}).get("raw")
            if raw:
                body = json.loads(raw)
                for name in ID_FIELDS:
                    if name in body and op.operation_id.startswith("create"):
                        body.pop(name)  # the example's ids do not exist on the target
                        body.pop("card_id", None)
                    elif name in body:
                        body[name] = "{{" + name + "}}"  # chained from the create requests
                item["request"]["body"]["raw"] = json.dumps(body, indent=2, ensure_ascii=False)
            documented = sorted(int(s) for s in op.responses if s.isdigit())
            lines = [
                "const body = pm.response.json();",
                f'pm.test("answer is documented ({", ".join(map(str, documented))})", function () {{ pm.expect({json.dumps(documented)}).to.include(pm.response.code); }});',
            ]
            for status in documented:
                schema = op.responses[str(status)].schema
                if schema is not None:
                    variable = schema_names.setdefault(
                        json.dumps(schema, sort_keys=True), f"schema_{len(schema_names)}"
                    )
                    lines.append(
                        f'if (pm.response.code === {status}) {{ pm.test("body matches the spec\'s schema for {status}", function () {{ pm.response.to.have.jsonSchema(JSON.parse(pm.collectionVariables.get("{variable}"))); }}); }}'
                    )
            if op.operation_id.startswith("create"):
                lines += [
                    f'if (pm.response.code === 200 && body.{n}) {{ pm.collectionVariables.set("{n}", body.{n}); }}'
                    for n in ID_FIELDS
                ]
            item["event"] = [
                {"listen": "test", "script": {"type": "text/javascript", "exec": lines}}
            ]


def build_collection(spec: ApiSpec) -> dict[str, Any]:
    """The exported collection: the project's (scenarios, chained ids) for a spec with
    x-lifecycle, the converter's with tests and nothing of Neuro-Pay's for any other."""
    if spec.lifecycle is None:
        return foreign_collection(spec)
    collection = convert(spec, token_variable="apiKey")
    collection["info"]["description"] = (
        "Generated by `neuropay postman export` from spec/openapi.yaml; do not edit by hand. "
        "Pick an environment and put your API key in its `apiKey` (secret) value: every request "
        "inherits the collection's bearer auth. The Scenarios folder walks every transition and "
        "every forbidden move of the checkout lifecycle."
    )
    schema_names: dict[str, str] = {}
    _with_generic_tests(spec, collection, schema_names)
    if spec.lifecycle is not None:
        folders = []
        for name, steps in ScenarioBuilder(spec).scenarios():
            folders.append(
                {
                    "id": stable_id("scenario", name),
                    "name": name,
                    "item": [
                        _item(spec, name, i, step, schema_names) for i, step in enumerate(steps)
                    ],
                }
            )
        collection["item"].append(
            {
                "id": stable_id("folder", "Scenarios"),
                "name": "Scenarios",
                "description": "Generated from x-lifecycle.",
                "item": folders,
            }
        )
    collection["variable"] += [
        {"key": "checkout_id", "value": "", "type": "string"},
        {"key": "customer_id", "value": "", "type": "string"},
        {"key": "snapshot", "value": "", "type": "string"},
    ]
    for schema_json, variable in schema_names.items():
        collection["variable"].append(
            {
                "key": variable,
                "value": json.dumps(ajv_schema(spec, json.loads(schema_json))),
                "type": "string",
            }
        )
    return collection


def build_environment(key: str) -> dict[str, Any]:
    name, url = ENVIRONMENTS[key]
    return {
        "id": stable_id("environment", key),
        "name": name,
        "values": [
            {"key": "baseUrl", "value": url, "type": "default", "enabled": True},
            {"key": "apiKey", "value": "", "type": "secret", "enabled": True},
        ],
        "_postman_variable_scope": "environment",
    }


def export_files(spec: ApiSpec) -> dict[str, str]:
    """File name → content of everything `neuropay postman export` writes (deterministic)."""
    if spec.lifecycle is None:
        return foreign_export_files(spec)
    files = {
        COLLECTION_FILE: json.dumps(build_collection(spec), indent=2, ensure_ascii=False) + "\n"
    }
    for key in ENVIRONMENTS:
        files[f"neuropay-{key}.postman_environment.json"] = (
            json.dumps(build_environment(key), indent=2) + "\n"
        )
    return files


def write_export(spec: ApiSpec, out: Path) -> list[Path]:
    ensure_dir(out, "the export")
    written = []
    for name, text in export_files(spec).items():
        path = write_text(out / name, text)
        written.append(path)
    return written


def stale_files(spec: ApiSpec, out: Path) -> list[str]:
    """Files under ``out`` that differ from a fresh export (missing ones included)."""
    return [
        name
        for name, text in export_files(spec).items()
        if not (out / name).exists() or (out / name).read_text(encoding="utf-8") != text
    ]
