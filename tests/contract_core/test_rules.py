"""The rule catalogue is complete: every rule id the engine or the suite can raise is registered,
every registered rule is raised somewhere, the catalog of broken servers cites registered rules,
and the committed RULES.md is the catalogue's current rendering."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuropay_contract.contract.rules import (
    AUTH_KEY_KINDS,
    RULES,
    SCHEMATHESIS_CHECKS,
    rules_markdown,
)

from ..catalog.faults import FAULTS
from ._cli import run

ROOT = Path(__file__).resolve().parents[2]
# The catalogue itself (rules.py) declares rules; it raises none, and scanning it would count every
# declaration as raised (and the traffic checker's own rules as the suite's).
SOURCES = [
    *sorted(
        path
        for path in (ROOT / "src" / "neuropay_contract" / "contract").glob("*.py")
        if path.name != "rules.py"
    ),
    *sorted((ROOT / "contract_tests").glob("*.py")),
]
RULE_ID = re.compile(r"^[a-z]+\.[a-z0-9_-]+$")
CATEGORIES = {rule.category for rule in RULES.values()}


def _rule_takers(trees: list[ast.Module]) -> dict[str, int]:
    """Functions (and classes, by their ``__init__``) with a parameter named ``rule``: the
    position of that parameter in a call. Found, not listed, so new helpers are seen too."""
    takers: dict[str, int] = {}
    for tree in trees:
        for node in ast.walk(tree):
            owners: list[tuple[str, ast.FunctionDef, int]] = []
            if isinstance(node, ast.FunctionDef):
                owners.append((node.name, node, 0))
            if isinstance(node, ast.ClassDef):
                owners += [
                    (node.name, f, 1)
                    for f in node.body
                    if isinstance(f, ast.FunctionDef) and f.name == "__init__"
                ]
            for name, function, skip in owners:
                params = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
                if "rule" in params:
                    takers[name] = params.index("rule") - skip
    return takers


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _pattern(node: ast.JoinedStr) -> str:
    """An f-string as a regex: its placeholders match any name."""
    parts = [
        re.escape(str(v.value)) if isinstance(v, ast.Constant) else "[a-z0-9_-]+"
        for v in node.values
    ]
    return "^" + "".join(parts) + "$"


def raised_rules() -> Iterator[tuple[str, str, bool]]:
    """(rule id or pattern, where, is_pattern) for every rule id in the engine and the suite: the
    ``rule`` argument of any call to a function that takes one, ``rule=`` keywords and defaults,
    and any other string shaped like ``category.name`` of a known category (dict keys excepted)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in SOURCES}
    takers = _rule_takers(list(trees.values()))
    for path, tree in trees.items():
        # Dict keys ("checkout.status" in expected values) and f-string pieces are no rule ids.
        dict_keys = {
            id(k) for node in ast.walk(tree) if isinstance(node, ast.Dict) for k in node.keys
        }
        dict_keys |= {
            id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values
        }
        candidates: list[ast.AST] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in takers:
                index = takers[_name(node.func)]
                candidates += node.args[index : index + 1]
            if isinstance(node, ast.keyword) and node.arg == "rule":
                candidates.append(node.value)
            if isinstance(node, ast.arguments):
                names = [a.arg for a in [*node.posonlyargs, *node.args]][-len(node.defaults) :]
                candidates += [d for n, d in zip(names, node.defaults, strict=False) if n == "rule"]
                candidates += [
                    d
                    for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)
                    if a.arg == "rule" and d is not None
                ]
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in dict_keys
                and RULE_ID.match(node.value)
                and node.value.split(".")[0] in CATEGORIES
            ):
                candidates.append(node)
        where = str(path.relative_to(ROOT))
        for node in candidates:
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if RULE_ID.match(node.value):
                    yield node.value, f"{where}:{node.lineno}", False
            elif isinstance(node, ast.JoinedStr) and RULE_ID.match(
                re.sub(r"\{[^}]*\}", "x", ast.unparse(node)[2:-1])
            ):
                yield _pattern(node), f"{where}:{node.lineno}", True


RAISED = sorted(set(raised_rules()))


def test_the_scan_finds_the_rules() -> None:
    # The scan below would pass vacuously if it found nothing.
    ids = {rule for rule, _where, pattern in RAISED if not pattern}
    assert {"lifecycle.forbidden-answer", "money.refund-cap", "schema.response"} <= ids
    assert any(pattern for _rule, _where, pattern in RAISED)  # auth.{kind}-key


@pytest.mark.parametrize(("rule", "where", "pattern"), RAISED, ids=[r[1] for r in RAISED])
def test_every_raised_rule_is_in_the_catalogue(rule: str, where: str, pattern: bool) -> None:
    if pattern:
        assert any(re.match(rule, known) for known in RULES), (
            f"{where} raises rules {rule} and none is registered: add them to "
            "src/neuropay_contract/contract/rules.py"
        )
    else:
        assert rule in RULES, (
            f"{where} raises rule {rule!r}, which is not in the catalogue: add a Rule to "
            "src/neuropay_contract/contract/rules.py (and regenerate contract_tests/RULES.md "
            "with `neuropay test --list-rules --format md`)"
        )


def test_every_catalogued_rule_can_be_raised() -> None:
    ids = {rule for rule, _where, pattern in RAISED if not pattern}
    patterns = [rule for rule, _where, pattern in RAISED if pattern]
    dynamic = {f"schemathesis.{name}" for name in SCHEMATHESIS_CHECKS}
    unused = [
        rule
        for rule in RULES
        if rule not in ids and rule not in dynamic and not any(re.match(p, rule) for p in patterns)
    ]
    assert not unused, f"catalogued rules nothing raises: {unused}"


def test_the_auth_kinds_are_the_suites() -> None:
    tree = ast.parse((ROOT / "contract_tests" / "test_auth.py").read_text(encoding="utf-8"))
    keys = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and _name(node.target) == "KEYS"
    )
    assert isinstance(keys, ast.Dict)
    assert {ast.literal_eval(k) for k in keys.keys if k is not None} == set(AUTH_KEY_KINDS)


def test_the_schemathesis_checks_are_schemathesis_own() -> None:
    import schemathesis.specs.openapi.checks  # noqa: F401 - registers the OpenAPI checks
    from schemathesis.checks import CHECKS

    assert set(CHECKS.get_all_names()) == set(SCHEMATHESIS_CHECKS)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_catalog_faults_cite_catalogued_rules(fault: object) -> None:
    rules = fault.rules  # type: ignore[attr-defined]
    assert rules, "a fault names the rules that catch it"
    for rule in rules:
        assert rule in RULES or rule in {r.category for r in RULES.values()}, rule


def test_rules_md_is_current() -> None:
    committed = (ROOT / "contract_tests" / "RULES.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(), (
        "contract_tests/RULES.md is stale: run "
        "`neuropay test --list-rules --format md > contract_tests/RULES.md`"
    )


def test_list_rules_prints_every_rule() -> None:
    proc = run("test", "--list-rules")
    assert proc.returncode == 0, proc.stderr
    listed = [line.split()[0] for line in proc.stdout.splitlines()]
    assert listed == list(RULES)
    assert run("test", "--list-rules", "--format", "md").stdout == rules_markdown()
    refused = run("test", "--format", "md")
    assert refused.returncode == 2 and "--format goes with --list-rules" in refused.stderr
