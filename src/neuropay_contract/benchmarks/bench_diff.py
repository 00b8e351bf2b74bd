"""`make bench-diff`: `neuropay spec diff` on a generated 460-operation spec against an edited
version of itself, and on two published versions of GitHub's API description (1,100+ operations)
when run from a checkout; Redocly's `stats` (which parses and resolves both documents) as the
peer, in one run: wall time and peak memory."""

from __future__ import annotations

import copy
import json
import lzma
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .._resources import checkout_root
from ._timing import run_timed
from .large_spec import build_large_spec, count_operations

GOAL_SECONDS = 10.0
_METHODS = ("get", "put", "post", "delete", "patch")


def edited_version(document: dict[str, Any]) -> dict[str, Any]:
    """Another release of ``document``: the kinds of edits a year of releases makes, everywhere.

    Every 20th path is removed, every 7th gets a new required parameter, every schema a new
    response field, every 5th schema a tighter bound and an enum value; deterministic.
    """
    new = copy.deepcopy(document)
    paths = new["paths"]
    for index, path in enumerate(list(paths)):
        if index % 20 == 3:
            del paths[path]
            continue
        for method in _METHODS:
            op = paths[path].get(method)
            if op is not None and index % 7 == 1:
                param = {
                    "name": "X-Account",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                }
                op["parameters"] = [*(op.get("parameters") or []), param]
            if op is not None and index % 11 == 2:
                op["responses"]["202"] = {"description": "Accepted for later."}
    for index, (name, schema) in enumerate(new["components"]["schemas"].items()):
        props = schema.get("properties")
        if isinstance(props, dict):
            props[f"{name.lower()}_version"] = {"type": "string", "maxLength": 64}
            for prop in props.values():
                if index % 5 == 0 and isinstance(prop, dict) and "enum" in prop:
                    prop["enum"] = [*prop["enum"], "pending_review"]
                if index % 5 == 0 and isinstance(prop, dict) and "maxLength" in prop:
                    prop["maxLength"] = max(1, int(prop["maxLength"]) // 2)
    new["info"]["version"] = "2.0.0"
    return new


def _pairs(tmp: Path) -> list[tuple[str, Path, Path, int]]:
    document = build_large_spec()
    old, new = tmp / "large-v1.yaml", tmp / "large-v2.yaml"
    old.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    old_ops = count_operations(document)
    new.write_text(yaml.safe_dump(edited_version(document), sort_keys=False), encoding="utf-8")
    pairs = [("generated large spec (YAML)", old, new, old_ops)]
    root = checkout_root()
    fixtures = root / "tests" / "fixtures" / "github-openapi" if root else None
    if fixtures and fixtures.exists():
        files = []
        for version in ("22.0.0", "23.0.0"):
            target = tmp / f"github-{version}.json"
            target.write_bytes(
                lzma.decompress((fixtures / f"api.github.com-{version}.json.xz").read_bytes())
            )
            files.append(target)
        ops = count_operations(json.loads(files[0].read_text(encoding="utf-8")))
        pairs.append(("GitHub REST API 22.0.0 -> 23.0.0 (JSON)", files[0], files[1], ops))
    return pairs


def main() -> int:
    neuropay = Path(sys.executable).with_name("neuropay")
    root = checkout_root() or Path.cwd()
    redocly = root / "node_modules" / ".bin" / "redocly"
    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, old, new, ops in _pairs(Path(tmp)):
            size = (old.stat().st_size + new.stat().st_size) // 1024
            print(f"\n{label}: {ops} operations, {size} KiB for both; median of 3 runs each")
            ours_t, ours_mem = run_timed(
                [
                    str(neuropay),
                    "spec",
                    "diff",
                    str(old),
                    str(new),
                    "--format",
                    "json",
                    "--fail-on",
                    "never",
                ]
            )
            print(f"{'':26}{'neuropay spec diff':>20}{'redocly stats x2':>18}{'ratio':>9}")
            if redocly.exists():
                theirs_t, theirs_mem = run_timed(
                    ["bash", "-c", f"{redocly} stats {old} && {redocly} stats {new}"]
                )
                print(
                    f"{'wall time (s)':26}{ours_t:>20.2f}{theirs_t:>18.2f}{theirs_t / ours_t:>8.2f}x (>1: neuropay faster)"
                )
                print(
                    f"{'peak memory (MiB)':26}{ours_mem / 1024:>20.0f}{theirs_mem / 1024:>18.0f}{theirs_mem / ours_mem:>8.2f}x (>1: neuropay smaller)"
                )
            else:
                print(f"{'wall time (s)':26}{ours_t:>20.2f}   (redocly not installed: make setup)")
                print(f"{'peak memory (MiB)':26}{ours_mem / 1024:>20.0f}")
            results.append((label, ours_t))
    print(f"\ngoal: each diff under {GOAL_SECONDS:.0f} s on this machine")
    for label, seconds in results:
        print(f"  {label}: {seconds:.2f} s: {'met' if seconds < GOAL_SECONDS else 'NOT met'}")
    return 0 if all(s < GOAL_SECONDS for _, s in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
