"""`neuropay test` end to end: exit codes, one-line errors, no key in any output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from neuropay_contract.server import RunningServer

from ._cli import NEUROPAY, run


def test_embedded_target_is_conformant_and_reports_are_written(tmp_path: Path) -> None:
    # a key in the environment is for the user's own server: the embedded run makes its own
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    env |= {"NEUROPAY_API_KEY": "sk_test_of_my_staging_server", "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.run(
        [*NEUROPAY, "test", "--profile", "dev", "--seed", "5", "--report-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=work,
    )
    # Hypothesis' files go to the user's cache folder, not the caller's working directory
    assert list(work.iterdir()) == [] and (tmp_path / "neuropay" / "hypothesis").is_dir()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "CONFORMANT" in proc.stdout
    for name in ("results.json", "report.html", "report.md", "junit.xml"):
        assert (tmp_path / name).exists()
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["embedded_target"] is True and results["seed"] == 5
    cells = results["lifecycle"]
    assert len(cells) == 9 * 6 and {c["outcome"] for c in cells} == {"passed"}
    categories = {c["category"] for c in results["checks"]}
    assert {
        "fuzz",
        "stateful",
        "lifecycle",
        "money",
        "auth",
        "isolation",
        "metadata",
        "customers",
        "idempotency",
        "protocol",
    } <= categories


def test_a_key_typed_without_a_target_stops_instead_of_testing_the_embedded_server(
    tmp_path: Path,
) -> None:
    expected = (
        "given without --target-url: the embedded reference server makes its own keys; "
        "pass --target-url to test your server"
    )
    proc = run("test", "--api-key", "sk_test_mine", "--report-dir", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"neuropay: error: --api-key {expected}"]
    assert not (tmp_path / "results.json").exists()
    suite = Path(__file__).parents[2] / "contract_tests"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-q", "--second-api-key", "sk_test_other"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"--second-api-key {expected}" in proc.stdout + proc.stderr
    assert "sk_test_other" not in proc.stdout + proc.stderr


def test_unreachable_target_exits_2_with_one_line(tmp_path: Path) -> None:
    proc = run(
        "test",
        "--target-url",
        "http://127.0.0.1:9",
        "--api-key",
        "sk_test_" + "1" * 32,
        "--report-dir",
        str(tmp_path),
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith("neuropay: error: cannot reach http://127.0.0.1:9")
    )
    assert "Traceback" not in proc.stderr + proc.stdout


def test_wrong_key_exits_2_never_passes(server: RunningServer, tmp_path: Path) -> None:
    wrong = "sk_test_" + "2" * 32
    proc = run(
        "test",
        "--target-url",
        server.url,
        "--report-dir",
        str(tmp_path),
        env={"NEUROPAY_API_KEY": wrong},
    )
    assert proc.returncode == 2
    assert "refused the API key" in proc.stderr
    assert wrong not in proc.stdout + proc.stderr


def test_missing_key_and_spec_are_usage_errors(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NEUROPAY_API_KEY"}
    proc = subprocess.run(
        [*NEUROPAY, "test", "--target-url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2 and "needs an API key" in proc.stderr
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("openapi: [")
    proc = run("test", "--spec", str(garbage), "--report-dir", str(tmp_path))
    assert proc.returncode == 2 and "not valid YAML" in proc.stderr


def test_keys_never_appear_in_outputs(server: RunningServer, tmp_path: Path) -> None:
    proc = run(
        "test",
        "--target-url",
        server.url,
        "--second-api-key",
        server.second_test_key,
        "--live-api-key",
        server.live_key,
        "--profile",
        "dev",
        "-k",
        "auth or idempotency",
        "--report-dir",
        str(tmp_path),
        env={"NEUROPAY_API_KEY": server.test_key},
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    outputs = [proc.stdout, proc.stderr] + [p.read_text() for p in tmp_path.iterdir()]
    for key in (server.test_key, server.second_test_key, server.live_key):
        assert all(key not in text for text in outputs)


def test_every_cli_verb_has_help() -> None:
    for verb in (
        ["spec", "lint"],
        ["spec", "rules"],
        ["mock"],
        ["test"],
        ["report"],
        ["docs"],
        ["postman", "export"],
        ["postman", "convert"],
        ["postman", "diff"],
    ):
        proc = run(*verb, "--help")
        assert proc.returncode == 0 and "Usage:" in proc.stdout, verb


def test_an_unknown_operation_in_operations_is_a_usage_error(tmp_path: Path) -> None:
    proc = run("test", "--operations", "createCheckout,noSuchThing", "--report-dir", str(tmp_path))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "unknown operation noSuchThing" in proc.stderr
