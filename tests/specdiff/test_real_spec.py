"""Two published versions of GitHub's REST API description, diffed; a hand-checked subset asserted.

Every expected change below was checked by reading both documents (see the fixture's README):
e.g. v22 has ``/orgs/{org}/teams/{team_slug}/discussions`` and v23 does not; v23's
``minimal-repository.license.url`` has ``nullable: true`` and v22's does not.
"""

from __future__ import annotations

import json
import lzma
import re
from pathlib import Path

import pytest

from neuropay_contract.specdiff import DiffReport, Severity, diff_documents, parse_document

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github-openapi"


def _load(version: str) -> str:
    return lzma.decompress((FIXTURES / f"api.github.com-{version}.json.xz").read_bytes()).decode()


@pytest.fixture(scope="module")
def report() -> DiffReport:
    old = parse_document(_load("22.0.0"), "github-22.0.0.json")
    new = parse_document(_load("23.0.0"), "github-23.0.0.json")
    return diff_documents(old, new)


P = "#/paths"
# (rule, old pointer, new pointer): each verified by hand in the two documents.
VERIFIED = [
    ("operation-removed", f"{P}/~1orgs~1{{org}}~1teams~1{{team_slug}}~1discussions/get", None),
    (
        "deprecated-operation-removed",
        f"{P}/~1repos~1{{owner}}~1{{repo}}~1tags~1protection~1{{tag_protection_id}}/delete",
        None,
    ),
    (
        "operation-moved",
        f"{P}/~1organizations~1{{org}}~1dependabot~1repository-access/get",
        f"{P}/~1orgs~1{{org}}~1dependabot~1repository-access/get",
    ),
    (
        "request-property-became-required",
        f"{P}/~1orgs~1{{org}}~1code-security~1configurations~1detach/delete/requestBody/content/application~1json/schema/properties/selected_repository_ids",
        f"{P}/~1orgs~1{{org}}~1code-security~1configurations~1detach/delete/requestBody/content/application~1json/schema/properties/selected_repository_ids",
    ),
    (
        "response-property-became-nullable",
        "#/components/schemas/minimal-repository/properties/license/properties/url",
        "#/components/schemas/minimal-repository/properties/license/properties/url",
    ),
    (
        "response-success-status-added",
        f"{P}/~1user~1memberships~1orgs~1{{org}}/patch/responses",
        f"{P}/~1user~1memberships~1orgs~1{{org}}/patch/responses/202",
    ),
    (
        "response-content-type-removed",
        f"{P}/~1repos~1{{owner}}~1{{repo}}~1code-scanning~1analyses~1{{analysis_id}}/get/responses/200/content/application~1json+sarif",
        f"{P}/~1repos~1{{owner}}~1{{repo}}~1code-scanning~1analyses~1{{analysis_id}}/get/responses/200/content",
    ),
    (
        "request-bound-tightened",
        f"{P}/~1orgs~1{{org}}~1artifacts~1metadata~1deployment-record/post/requestBody/content/application~1json/schema/properties/cluster",
        f"{P}/~1orgs~1{{org}}~1artifacts~1metadata~1deployment-record/post/requestBody/content/application~1json/schema/properties/cluster/maxLength",
    ),
    (
        "response-variant-added",
        "#/components/schemas/repository-rule",
        "#/components/schemas/repository-rule/oneOf/18",
    ),
]


@pytest.mark.slow
def test_github_22_to_23_breaking_changes(report: DiffReport) -> None:
    found = {(c.rule.id, c.old_pointer, c.new_pointer): c for c in report.changes}
    missing = [v for v in VERIFIED if v not in found]
    assert missing == []
    for key in VERIFIED:
        expected = "warning" if key[0] == "deprecated-operation-removed" else "breaking"
        assert found[key].severity.value == expected
        assert found[key].operations
    # 107 breaking changes at the time of writing, 20 of them removed operations (17 more were
    # deprecated first, so their removal is a warning): plausible for
    # a major version of a 1,100-operation API, and bounded so a flood of false alarms fails.
    assert 100 <= report.count(Severity.BREAKING) <= 160
    # The shared-schema change is one change listing every operation that returns the schema.
    nullable_url = found[VERIFIED[4]]
    assert len(nullable_url.operations) > 40


@pytest.mark.slow
def test_github_added_operations_are_safe_and_nothing_is_reported_twice(report: DiffReport) -> None:
    added = [c for c in report.changes if c.rule.id == "operation-added"]
    assert len(added) > 100 and all(c.severity.value == "safe" for c in added)
    keys = [(c.rule.id, c.old_pointer, c.new_pointer, c.reason) for c in report.changes]
    assert len(keys) == len(set(keys))


def _operations(version: str) -> dict[tuple[str, str], tuple[str, bool]]:
    paths = json.loads(_load(version))["paths"]
    return {
        (method, re.sub(r"\{[^}]*\}", "{}", path)): (
            item[method].get("operationId", ""),
            bool(item[method].get("deprecated")),
        )
        for path, item in paths.items()
        for method in ("get", "put", "post", "patch", "delete", "head", "options", "trace")
        if method in item
    }


@pytest.mark.slow
def test_github_removed_operations_match_an_independent_count(report: DiffReport) -> None:
    old, new = _operations("22.0.0"), _operations("23.0.0")
    new_ids = {op_id for key, (op_id, _) in new.items() if key not in old}
    gone = [key for key in old if key not in new]
    moved = [key for key in gone if old[key][0] in new_ids]
    deprecated = [key for key in gone if key not in moved and old[key][1]]
    removed = [c for c in report.changes if c.rule.id == "operation-removed"]
    assert len(removed) == len(gone) - len(moved) - len(deprecated)
    assert len([c for c in report.changes if c.rule.id == "deprecated-operation-removed"]) == len(
        deprecated
    )
    assert len([c for c in report.changes if c.rule.id == "operation-moved"]) == len(moved)
