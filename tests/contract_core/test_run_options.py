"""`neuropay test` options and the terminal: failures shown with rule, expected and received;
timeouts, unwritable report folders and specs without a lifecycle stop with one line; --seed
makes generated data reproducible under plain pytest."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from neuropay_contract.results import RESULTS_SCHEMA
from neuropay_contract.server import RunningServer, create_app, key_triplet, serve_app
from neuropay_contract.spec import load_spec

from ._cli import run


def capture_always_succeeds(app: Callable[..., Any]) -> Callable[..., Any]:
    """The reference app, except that capture answers 200 in every status."""

    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/checkout/capture":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"status": "paid"}'})
            return
        await app(scope, receive, send)

    return broken


@pytest.fixture
def broken_target() -> Iterator[tuple[str, list[str]]]:
    app = create_app()
    keys = list(key_triplet(app.state.keys))
    with serve_app(capture_always_succeeds(app)) as url:
        yield url, keys
    app.state.store.close()


def test_failures_are_summarised_with_rule_expected_and_received(
    broken_target: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, keys = broken_target
    proc = run(
        "test",
        "--target-url",
        url,
        "--second-api-key",
        keys[1],
        "--profile",
        "dev",
        "-k",
        "paid-captureCheckout or created-captureCheckout",
        "--report-dir",
        str(tmp_path),
        env={"NEUROPAY_API_KEY": keys[0]},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "lifecycle.forbidden-answer" in out
    # both forbidden captures are one root cause (same rule, same operation), with both checks
    assert (
        "was not refused as the spec says" in out and "lifecycle.forbidden-answer; 2 failed" in out
    )
    assert 'expected: {"status": 409, "error.code": ["invalid_status"]}' in out
    assert 'received: {"status": 200, "body": {"status": "paid"}}' in out
    assert "CONTRACT VIOLATIONS" in out and f"reports: {tmp_path}/" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert isinstance(results["seed"], int)  # chosen for the run, since none was given
    assert f"replay the same generated data with --seed {results['seed']}" in out
    assert "lifecycle" in out.split("CONTRACT VIOLATIONS")[0]  # the line of its category
    results = json.loads((tmp_path / "results.json").read_text())
    jsonschema.Draft202012Validator(RESULTS_SCHEMA).validate(results)
    failed = [c for c in results["checks"] if c["outcome"] == "failed"]
    assert len(failed) == 2
    assert all("$NEUROPAY_API_KEY" in c["failure"]["curl"] for c in failed)
    # each sequence starts with its own first request, not with the preflight's probe
    assert {c["failure"]["steps"][0]["operation"] for c in failed} <= {
        "createCheckout",
        "createCustomer",
    }
    assert [c["requests"] for c in failed] == [len(c["failure"]["steps"]) for c in failed]
    texts = [proc.stdout, proc.stderr] + [p.read_text() for p in tmp_path.iterdir()]
    for key in keys:
        assert all(key not in text for text in texts)


def test_results_of_a_conformant_run_validate_against_the_schema(tmp_path: Path) -> None:
    proc = run(
        "test",
        "--profile",
        "dev",
        "-k",
        "test_customers or test_idempotency or test_metadata",
        "--report-dir",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    jsonschema.Draft202012Validator(RESULTS_SCHEMA).validate(results)
    assert {c["category"] for c in results["checks"]} == {"customers", "idempotency", "metadata"}
    # not a terminal (a CI log): one progress line per finished module, on stderr
    progress = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    # progress is per test module (a category may span several, e.g. idempotency)
    per_module = Counter(
        c["id"].split("::")[0].removeprefix("test_").removesuffix(".py") for c in results["checks"]
    )
    total, done, expected = sum(per_module.values()), 0, []
    for module in sorted(per_module):
        done += per_module[module]
        width = len(str(total))
        count = per_module[module]
        checks = "check" if count == 1 else "checks"
        expected.append(f"[{done:>{width}}/{total}] {module}: {count} {checks} (t)")
    assert [re.sub(r"\(\d+\.\d s\)", "(t)", line) for line in progress] == expected
    for category in ("customers", "idempotency", "metadata"):
        assert any(
            line.split("│")[1:2] == [f" {category:<11} "] for line in proc.stdout.splitlines()
        )


def test_fuzz_and_stateful_checks_count_every_example_they_sent(tmp_path: Path) -> None:
    """A property check restarts its reproduction per example but keeps counting its requests,
    so a check's request count is what it sent, not what its last example sent."""
    proc = run(
        "test",
        "--profile",
        "dev",
        "--seed",
        "3",
        "-k",
        "createCheckout-positive or stateful",
        "--report-dir",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = json.loads((tmp_path / "results.json").read_text())["checks"]
    by_category = {c["category"]: c for c in checks}
    assert set(by_category) == {"fuzz", "stateful"}
    assert by_category["fuzz"]["requests"] >= 4  # the dev profile's examples, one request each
    assert by_category["stateful"]["requests"] > 6  # several runs of up to 6 steps


def test_a_target_that_never_answers_times_out_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts connections; nobody ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        proc = run(
            "test",
            "--target-url",
            url,
            "--timeout",
            "0.5",
            "--report-dir",
            str(tmp_path),
            env={"NEUROPAY_API_KEY": "sk_test_" + "3" * 32},
        )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"neuropay: error: cannot reach {url}")
    assert "Timeout" in lines[0] and "sk_test_" not in proc.stderr + proc.stdout


def test_unwritable_report_dir_and_spec_without_lifecycle_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run("test", "--report-dir", str(blocker / "reports"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"neuropay: error: cannot write the reports to {blocker / 'reports'}: Not a directory"
    ]
    document = dict(load_spec().document)
    del document["x-lifecycle"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(document, default=str))
    proc = run("test", "--spec", str(bare), "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"neuropay: error: {bare} has no x-lifecycle extension"
    ]


DRAWING_TEST = """
import os
from hypothesis import given, strategies as st
from neuropay_contract.contract.plugin import np_settings

@np_settings()
@given(st.binary(min_size=16, max_size=16))
def test_draw(data):
    with open(os.environ["DRAWS"], "a") as out:
        out.write(data.hex() + "\\n")
"""


def test_seed_makes_generated_data_reproducible(tmp_path: Path) -> None:
    (tmp_path / "test_draw.py").write_text(DRAWING_TEST)

    def run_draws(seed: int | None, name: str) -> tuple[list[str], str]:
        out = tmp_path / name
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(tmp_path / "test_draw.py"),
                "-c",
                os.devnull,
                "--rootdir",
                str(tmp_path),
                "-p",
                "no:cacheprovider",
                *(["--seed", str(seed)] if seed is not None else []),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            # CI=true: Hypothesis then loads its derandomizing "ci" profile, as on CI machines
            env={**os.environ, "DRAWS": str(out), "CI": "true"},
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return out.read_text().split(), proc.stdout

    def draws(seed: int, name: str) -> list[str]:
        return run_draws(seed, name)[0]

    first, again, other = draws(7, "a"), draws(7, "b"), draws(8, "c")
    assert len(first) >= 3  # the dev profile's examples
    assert first == again
    assert first != other
    # without --seed a run picks one, names it in the header, and replaying it draws the same
    chosen_draws, header = run_draws(None, "d")
    chosen = re.search(r"neuropay: profile dev, seed (\d+) \(replay: --seed \1\)", header)
    assert chosen, header
    assert draws(int(chosen[1]), "e") == chosen_draws
    assert run_draws(None, "f")[0] != chosen_draws


def test_live_or_repeated_keys_stop_the_run_before_any_request(
    server: RunningServer, tmp_path: Path
) -> None:
    live = run(
        "test",
        "--target-url",
        server.url,
        "--report-dir",
        str(tmp_path),
        "-k",
        "x",
        env={"NEUROPAY_API_KEY": server.live_key},
    )
    assert live.returncode == 2
    assert live.stderr.strip().splitlines() == [
        "neuropay: error: refusing to run with a live key as --api-key (it starts with "
        "'sk_live_'): the suite creates and refunds checkouts; use a test key"
    ]
    same = run(
        "test",
        "--target-url",
        server.url,
        "--second-api-key",
        server.test_key,
        "--report-dir",
        str(tmp_path),
        env={"NEUROPAY_API_KEY": server.test_key},
    )
    assert same.returncode == 2 and "--second-api-key is the same key as --api-key" in same.stderr
    for proc in (live, same):
        for key in (server.test_key, server.live_key):
            assert key not in proc.stdout + proc.stderr


@pytest.mark.parametrize("url", ["ftp://x", "http://[::1", "http://127.0.0.1:99999"])
def test_a_target_url_that_is_no_http_url_exits_2(url: str, tmp_path: Path) -> None:
    proc = run(
        "test",
        "--target-url",
        url,
        "--report-dir",
        str(tmp_path),
        env={"NEUROPAY_API_KEY": "sk_test_" + "4" * 32},
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"neuropay: error: --target-url {url!r} is not")


@pytest.mark.parametrize("status", [404, 200])
def test_a_server_that_is_not_the_api_exits_2(status: int, tmp_path: Path) -> None:
    async def html_everywhere(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/html")],
            }
        )
        await send({"type": "http.response.body", "body": b"<h1>Not Found</h1>"})

    with serve_app(html_everywhere) as url:
        proc = run(
            "test",
            "--target-url",
            url,
            "--report-dir",
            str(tmp_path),
            env={"NEUROPAY_API_KEY": "sk_test_" + "5" * 32},
        )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"answered {status} without a JSON body" in lines[0]
