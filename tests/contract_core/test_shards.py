"""`neuropay test --shard K/N` and `neuropay report merge`: N shards of one seed are disjoint,
cover every check, and merge into the reports of the unsharded run (same check ids and
outcomes, root causes computed again on the merged checks); shards of different runs are
refused with one line."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.contract.cli import run_suite_subprocess
from neuropay_contract.contract.sharding import shard_of
from neuropay_contract.server import create_app, key_triplet, serve_app

from ..catalog.partial import INTEGRATOR_OPS, hand_written_mock
from ._cli import run

IDS = [f"test_{m}.py::test_{n}[{p}]" for m in "abc" for n in range(7) for p in range(5)]


def test_shards_are_disjoint_balanced_and_follow_the_seed() -> None:
    split = shard_of(IDS, seed=5, shards=3)
    assert set(split) == set(IDS) and set(split.values()) == {1, 2, 3}
    sizes = sorted(list(split.values()).count(k) for k in (1, 2, 3))
    assert sizes[-1] - sizes[0] <= 1
    assert shard_of(list(reversed(IDS)), seed=5, shards=3) == split  # collection order aside
    assert shard_of(IDS, seed=6, shards=3) != split


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "3/2", "--seed", "1"], "--shard '3/2': use K/N with 1 <= K <= N"),
        (["--shard", "two", "--seed", "1"], "--shard 'two': use K/N"),
        (["--shard", "1/2"], "--shard needs --seed N"),
    ],
)
def test_a_bad_shard_is_one_line_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    proc = run("test", "--report-dir", str(tmp_path), *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def _outcomes(folder: Path) -> dict[str, str]:
    data = json.loads((folder / "results.json").read_text())
    return {c["id"]: c["outcome"] for c in data["checks"]}


def _merge(out: Path, *shards: Path) -> Any:
    return run("report", "merge", *map(str, shards), "--report-dir", str(out))


@pytest.mark.slow
def test_two_and_three_shards_merge_into_the_unsharded_run(tmp_path: Path) -> None:
    """The reference server, profile ci, a selection of categories (to keep the test short):
    the 2-shard and 3-shard merges have the unsharded run's checks and outcomes."""
    select = ["--profile", "ci", "--seed", "41", "-k", "lifecycle or precedence or auth"]
    assert run("test", *select, "--report-dir", str(tmp_path / "full")).returncode == 0
    full = _outcomes(tmp_path / "full")
    for n in (2, 3):
        folders = [tmp_path / f"s{n}-{k}" for k in range(1, n + 1)]
        for k, folder in enumerate(folders, start=1):
            proc = run("test", *select, "--shard", f"{k}/{n}", "--report-dir", str(folder))
            assert proc.returncode == 0, proc.stderr[-2000:]
            assert json.loads((folder / "results.json").read_text())["shard"] == f"{k}/{n}"
        shares = [set(_outcomes(f)) for f in folders]
        assert sum(map(len, shares)) == len(full) and set().union(*shares) == set(full)
        merged = tmp_path / f"merged{n}"
        proc = _merge(merged, *folders)
        assert proc.returncode == 0, proc.stderr
        assert _outcomes(merged) == full
        data = json.loads((merged / "results.json").read_text())
        unsharded = json.loads((tmp_path / "full" / "results.json").read_text())
        assert data["coverage"]["lifecycle"] == unsharded["coverage"]["lifecycle"]
        assert [c["outcome"] for c in data["lifecycle"]] == [
            c["outcome"] for c in unsharded["lifecycle"]
        ]
        junit = ET.parse(merged / "junit.xml").getroot()
        assert sum(int(s.get("tests") or 0) for s in junit.iter("testsuite")) == len(full)
        assert "Conformant" in (merged / "report.md").read_text()


@pytest.mark.slow
def test_a_red_run_merges_with_its_root_causes_and_other_runs_are_refused(tmp_path: Path) -> None:
    app = create_app()
    keys = key_triplet(app.state.keys)
    apply = hand_written_mock(INTEGRATOR_OPS, drop_fields=("livemode",))
    with serve_app(apply(app)) as url:
        full = run_suite_subprocess(url, keys, tmp_path / "full", "dev", 9)
        shards = [
            run_suite_subprocess(
                url, keys, tmp_path / f"s{k}", "dev", 9, extra=("--shard", f"{k}/2")
            )
            for k in (1, 2)
        ]
    app.state.store.close()
    assert full.returncode == 1 and all(s.returncode == 1 for s in shards)
    proc = _merge(tmp_path / "merged", tmp_path / "s1", tmp_path / "s2")
    assert proc.returncode == 1, proc.stderr
    assert _outcomes(tmp_path / "merged") == _outcomes(tmp_path / "full")
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    unsharded = json.loads((tmp_path / "full" / "results.json").read_text())

    def causes(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
        return sorted((c["rule"], sorted(c["checks"])) for c in data["root_causes"])

    assert causes(merged) == causes(unsharded)
    assert merged["not_implemented"] == unsharded["not_implemented"]
    # shards of another run: one line, exit 2
    other = tmp_path / "other"
    shutil.copytree(tmp_path / "s2", other)
    for field, value, words in (
        ("seed", 10, "different seeds"),
        ("spec_sha256", "0" * 64, "different specs"),
        ("target_url", "http://127.0.0.1:1", "different targets"),
    ):
        data = json.loads((tmp_path / "s2" / "results.json").read_text())
        data[field] = value
        (other / "results.json").write_text(json.dumps(data))
        proc = _merge(tmp_path / "refused", tmp_path / "s1", other)
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
