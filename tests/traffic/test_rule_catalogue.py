"""One rule catalogue for the suite and the traffic checker: every rule id the checker can report
is registered (its own, or a suite rule it shares with the same meaning), no own rule reuses a
suite id, and `neuropay proxy|audit --list-rules` print the catalogue; so are the read-back rules of
`neuropay load` (`neuropay load --list-rules`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import neuropay_contract.traffic as traffic
from neuropay_contract.contract.rules import LOAD_RULES, RULES, TRAFFIC_RULES, TRAFFIC_SHARED

from ..contract_core._cli import run

RULE_ID = re.compile(r"^[a-z]+\.[a-z0-9]+(?:-[a-z0-9]+)*$")
CATEGORIES = {rule_id.split(".")[0] for rule_id in TRAFFIC_RULES}


def _ids_in_traffic_sources() -> set[str]:
    found: set[str] = set()
    for path in Path(traffic.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if RULE_ID.match(text) and text.split(".")[0] in CATEGORIES:
                    found.add(text)
    return found


def test_every_id_the_checker_reports_is_registered_and_none_is_dead() -> None:
    used = _ids_in_traffic_sources()
    assert len(used) > 30
    assert sorted(used - set(TRAFFIC_RULES)) == []
    assert sorted(set(TRAFFIC_RULES) - used) == []


def test_own_rules_never_reuse_a_suite_id() -> None:
    own = set(TRAFFIC_RULES) - TRAFFIC_SHARED
    assert sorted(own & set(RULES)) == []
    assert set(RULES) >= TRAFFIC_SHARED
    for rule_id in TRAFFIC_SHARED:
        assert TRAFFIC_RULES[rule_id] is RULES[rule_id]  # the same rule, not a copy


@pytest.mark.parametrize("command", ["proxy", "audit"])
def test_list_rules(command: str) -> None:
    """Works without the command's required target or file, like --version."""
    proc = run(command, "--list-rules")
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
    assert listed == set(TRAFFIC_RULES)
    assert "[also a suite rule]" in proc.stdout


# File names in the load package that read like ids (its reports).
_FILE_SUFFIXES = ("html", "json", "csv", "md", "xml")


def _load_ids() -> set[str]:
    """Every ``load.*`` rule id written in the load package's sources (not its file names)."""
    import neuropay_contract.load as load

    found: set[str] = set()
    for path in Path(load.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if (
                    RULE_ID.match(text)
                    and text.startswith("load.")
                    and text.split(".", 1)[1] not in _FILE_SUFFIXES
                ):
                    found.add(text)
    return found


def test_every_load_rule_is_registered_and_none_is_dead() -> None:
    """`neuropay load`'s read-back findings are rules of the one catalogue too: a load run
    reports the traffic checker's rules and these, never an id a reader cannot look up."""
    used = _load_ids()
    own = set(LOAD_RULES) - set(TRAFFIC_RULES)
    assert len(used) >= 6
    assert sorted(used - own) == []
    assert sorted(own - used) == []
    assert all(rule_id.startswith("load.") for rule_id in own)
    assert sorted(own & set(RULES)) == []
    assert set(LOAD_RULES) >= set(TRAFFIC_RULES)


def test_load_lists_its_rules() -> None:
    proc = run("load", "--list-rules")
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
    assert listed == set(LOAD_RULES)
