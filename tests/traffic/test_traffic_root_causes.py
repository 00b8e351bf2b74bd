"""The proxy and the audit group their findings into root causes with the suite's engine: five
faults behind `neuropay proxy` read as about five causes, knock-on findings (a later finding on
an object whose state an earlier one already got wrong) counted under the earlier cause."""

from __future__ import annotations

from typing import Any

from neuropay_contract.reports.render import render_html, render_markdown
from neuropay_contract.results import RESULTS_SCHEMA
from neuropay_contract.server import create_app, key_triplet
from neuropay_contract.traffic.results import build_results

from ..catalog.faults import FAULTS
from ._proxy import careful_client_traffic, proxied
from ._traffic import RecordingClient

# Five faults of different kinds: an answer schema, a transition, money totals, the error
# envelope, a lifecycle refusal.
FIVE = (
    "capture-twice",
    "wrong-status-after-partial-refund",
    "refunded-not-sum",
    "wrong-error-envelope",
    "local-time",
)


def _with_faults(app: Any, names: tuple[str, ...]) -> Any:
    """The reference app with every fault of ``names`` applied, one over the other (each keeps
    the reference's state reachable for the next)."""
    broken = app
    for name in names:
        fault = next(f for f in FAULTS if f.name == name)
        wrapped = fault.apply(broken)
        if not hasattr(wrapped, "state"):
            wrapped.state = app.state
        broken = wrapped
    return broken


def test_five_faults_behind_the_proxy_read_as_their_root_causes() -> None:
    from jsonschema import Draft202012Validator

    app = create_app()
    keys = key_triplet(app.state.keys)
    with proxied(_with_faults(app, FIVE)) as (url, checker):
        client = RecordingClient(url, keys[0])
        careful_client_traffic(client, keys[1], keys[2])
        client.close()
    app.state.store.close()
    results = build_results(checker, url, 0.0, "proxy")
    findings = len(checker.findings)
    causes = results.root_causes
    summary = [(c.rule, len(c.checks), len(c.knock_on), c.title[:90]) for c in causes]
    assert findings > 2 * len(causes), summary
    assert 4 <= len(causes) <= 6, summary
    # every finding is explained, knock-ons by the cause of an earlier finding on their object
    explained = {check for cause in causes for check in cause.checks}
    failed = {c.id for c in results.checks if c.outcome == "failed"}
    assert explained == failed
    knock_on = [k for c in causes for k in c.knock_on]
    assert knock_on, summary
    assert all(c.fix for c in causes)
    # the causes name the faults' own rules
    rules = {r for c in causes for r in c.rules}
    for wanted in (
        "response.body-schema",
        "response.error-envelope",
        "lifecycle.forbidden-answer",
        "lifecycle.transition-target",
        "money.refunded-equals-sum",
    ):
        assert wanted in rules, rules
    assert not list(Draft202012Validator(RESULTS_SCHEMA).iter_errors(results.to_dict()))
    md, html = render_markdown(results), render_html(results)
    assert f"### Root causes ({len(causes)}" in md and "knock-on)" in md
    assert all(f"Fix: {c.fix[:40]}" in md for c in causes)
    assert html.count('class="fix"') == len(causes)
