"""The rules for any document (NP013 to NP017, those users know from spectral:oas), and the linter
running every rule on a document the validator refuses (PayPal Orders v2)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from neuropay_contract.linting import lint_spec
from neuropay_contract.linting.regex_dialect import check

from .._fixtures import REALSPECS_DIR

PAYPAL = REALSPECS_DIR / "paypal-checkout_orders_v2.json"

# (pattern, valid with u, valid without u)
DIALECT = [
    (r"^[A-Z]{3}$", True, True),
    (r"\[\x01-\x09]", False, True),  # PayPal's email: the ']' closes no class
    (r"a{", False, True),
    (r"a}", False, True),
    (r"\-", False, True),
    (r"[\-]", True, True),
    (r"\a", False, True),
    (r"[\w-z]", False, True),
    (r"(?=a)*", False, True),
    (r"\8", False, True),
    (r"(a)\1", True, True),
    (r"\u{1F600}", True, True),
    (r"\p{L}", True, True),
    (r"[z-a]", False, False),
    (r"*a", False, False),
    (r"a{2,1}", False, False),
    (r"(a", False, False),
    (r"a)", False, False),
    (r"[a", False, False),
    (r"(?P<x>a)", False, False),
]


@pytest.mark.parametrize(("pattern", "with_u", "without_u"), DIALECT)
def test_the_dialect_of_a_pattern(pattern: str, with_u: bool, without_u: bool) -> None:
    verdict = check(pattern)
    assert (verdict.with_u is None, verdict.without_u is None) == (with_u, without_u)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_dialect_agrees_with_a_javascript_engine() -> None:
    """Every pattern above and every pattern of PayPal's spec, judged by node's RegExp."""
    patterns = [p for p, _u, _no in DIALECT]
    stack: list[object] = [json.loads(PAYPAL.read_text())]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.append(node["pattern"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    script = (
        "const ps=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "console.log(JSON.stringify(ps.map(p=>['u',''].map(f=>{"
        "try{new RegExp(p,f);return true}catch(e){return false}}))))"
    )
    done = subprocess.run(
        ["node", "-e", script], input=json.dumps(patterns), capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    engine = json.loads(done.stdout)
    ours = [[check(p).with_u is None, check(p).without_u is None] for p in patterns]
    assert len(patterns) > 100
    assert ours == engine


def test_paypal_runs_every_rule_and_tells_the_regex_question_precisely() -> None:
    report = lint_spec(PAYPAL)
    rules = {f.rule for f in report.findings}
    dialect = [f for f in report.findings if f.rule == "NP013"]
    email = next(f for f in dialect if f.pointer == "#/components/schemas/email/pattern")
    assert email.severity == "warning"
    assert "only without the u flag" in email.message
    assert "a lone ']'" in email.message and "offset" in email.message
    # the validator's vaguer "is not a 'regex'" is not repeated beside it
    assert not [f for f in report.findings if f.rule == "NP000" and "regex" in f.message]
    # the rules after the validator ran: $ref siblings (PayPal is 3.0) and missing examples
    assert sum(1 for f in report.findings if f.rule == "NP014") > 200
    assert {"NP002", "NP013", "NP014"} <= rules


def test_rules_run_when_the_validator_fails(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"
        "servers: [{url: 'https://example.com/v1/'}]\n"
        "paths:\n  /a:\n    get:\n      operationId: get a\n      parameters: [{in: nowhere}]\n"
        "      responses: {'200': {description: ok}}\n"
        "components:\n  schemas:\n    Unused: {type: string}\n"
    )
    rules = {f.rule for f in lint_spec(spec).findings}
    assert {"NP000", "NP001", "NP015", "NP016", "NP017"} <= rules
