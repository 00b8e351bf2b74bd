"""`neuropay audit` on recorded traffic: a misusing client is blamed, a correct server is not, and
a broken server is; keys never reach what it writes; unreadable traffic exits 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuropay_contract.cli import main
from neuropay_contract.server import RunningServer, start_server
from neuropay_contract.spec import load_spec
from neuropay_contract.traffic.audit import audit_file
from neuropay_contract.traffic.checker import TrafficChecker
from neuropay_contract.traffic.exchange import read_traffic

from ..contract_core._cli import run
from ._traffic import RecordingClient

CREATE = {
    "amount": 3000,
    "currency": "SEK",
    "message": "Traffic test",
    "returnUrl": "https://shop.example.com/thanks",
    "returnUrlCancel": "https://shop.example.com/cart",
    "metaData": {"order": "1"},
}


@pytest.fixture
def reference() -> Iterator[RunningServer]:
    with start_server() as server:
        yield server


@pytest.fixture
def client(reference: RunningServer) -> Iterator[RecordingClient]:
    recording = RecordingClient(reference.url, reference.test_key)
    yield recording
    recording.close()


def misuse(client: RecordingClient) -> str:
    """The issue's client-misuse scenario; returns the checkout's id."""
    checkout = client.post("/checkout/create", CREATE).json()["checkout_id"]
    client.post("/checkout/test/pay", {"checkout_id": checkout})  # paid
    client.post("/checkout/capture", {"checkout_id": checkout})  # capture a paid checkout
    client.post("/checkout/refund", {"checkout_id": checkout, "amount": 5000})  # more than paid
    client.post("/checkout/update", {"checkout_id": checkout, "metaData": {}, "colour": "red"})
    one = {"checkout_id": checkout, "amount": 100}
    client.post("/checkout/refund", one, headers={"Idempotency-Key": "refund-1"})
    client.post("/checkout/refund", {**one, "amount": 200}, headers={"Idempotency-Key": "refund-1"})
    client.post("/checkout/refund", one, headers={"Idempotency-Key": "refund-1"})  # a true retry
    client.post("/checkout/retrieve", {"checkout_id": checkout})
    return str(checkout)


def test_client_misuse_is_the_clients_fault(
    reference: RunningServer, client: RecordingClient, tmp_path: Path
) -> None:
    checkout = misuse(client)
    checker = audit_file(client.write(tmp_path / "t.jsonl"), None)
    found = sorted((f.rule, f.side, f.exchange, f.object_id) for f in checker.findings)
    assert found == [
        ("idempotency.key-reused", "client", 7, checkout),
        ("lifecycle.forbidden-operation", "client", 3, checkout),
        ("money.refund-exceeds-remaining", "client", 4, checkout),
        ("request.body-schema", "client", 5, checkout),
    ]


def test_declared_refusals_are_not_findings(client: RecordingClient, tmp_path: Path) -> None:
    checkout = client.post("/checkout/create", CREATE).json()["checkout_id"]
    client.post(
        "/checkout/capture",
        {"checkout_id": checkout},
        headers={"X-Neuropay-Expect": "409 invalid_status"},
    )
    # A negative test may break several rules at once: none is the client's mistake.
    client.post(
        "/checkout/refund",
        {"checkout_id": checkout, "x": 1},
        headers={"X-Neuropay-Expect": "400 invalid_request"},
    )
    client.post("/checkout/refund", {"checkout_id": checkout, "x": 1})
    checker = audit_file(client.write(tmp_path / "t.jsonl"), None)
    assert [(f.rule, f.exchange) for f in checker.findings] == [("request.body-schema", 4)]


def test_other_key_and_no_key(
    reference: RunningServer, client: RecordingClient, tmp_path: Path
) -> None:
    checkout = client.post("/checkout/create", CREATE).json()["checkout_id"]
    client.post("/checkout/retrieve", {"checkout_id": checkout}, key=reference.second_test_key)
    client.post("/checkout/retrieve", {"checkout_id": checkout}, key=None)
    client.post("/checkout/retrieve", method="GET")
    client.post("/checkout/test/pay", {"checkout_id": checkout}, key=reference.live_key)
    checker = audit_file(client.write(tmp_path / "t.jsonl"), None)
    assert sorted((f.rule, f.side) for f in checker.findings) == [
        ("auth.test-helper-live-key", "client"),
        ("request.auth", "client"),
        ("request.method", "client"),
    ]


def test_audit_command_writes_reports_without_keys(
    reference: RunningServer, client: RecordingClient, tmp_path: Path
) -> None:
    checkout = misuse(client)
    traffic = client.write(tmp_path / "t.jsonl")
    assert reference.test_key not in traffic.read_text()
    proc = run("audit", str(traffic), "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 1, proc.stderr
    assert "4 finding(s) (4 client, 0 server)" in proc.stdout
    assert "[lifecycle.forbidden-operation]" in proc.stdout
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["verdict"] == "violations" and results["profile"] == "audit"
    rules = {c["failure"]["rule"] for c in results["checks"] if c["failure"]}
    assert "money.refund-exceeds-remaining" in rules
    for name in ("results.json", "report.html", "report.md", "junit.xml"):
        text = (tmp_path / "r" / name).read_text()
        assert reference.test_key not in text and "sk_test_" not in text
    # The object's observed timeline, with each exchange's findings on its row.
    (timeline,) = results["objects"]
    assert timeline["object_id"] == checkout and timeline["owner"] == "key 1"
    events = timeline["events"]
    assert [e["status"] for e in events[:3]] == ["created", "paid", "paid"]
    assert events[2]["findings"] == ["client: lifecycle.forbidden-operation"]
    assert "idempotent replay" in events[7]["note"]
    html = (tmp_path / "r" / "report.html").read_text()
    assert 'id="objects"' in html and checkout in html and "created → paid" in html
    assert checkout in (tmp_path / "r" / "report.md").read_text()
    # The results file is a valid results file for `neuropay report`.
    again = run("report", str(tmp_path / "r" / "results.json"), "--md", str(tmp_path / "a.md"))
    assert again.returncode == 1, again.stderr
    assert (tmp_path / "a.md").read_text() == (tmp_path / "r" / "report.md").read_text()


def test_clean_traffic_exits_0(
    reference: RunningServer, client: RecordingClient, tmp_path: Path
) -> None:
    checkout = client.post("/checkout/create", {**CREATE, "capture": False}).json()["checkout_id"]
    client.post("/checkout/test/pay", {"checkout_id": checkout})
    client.post("/checkout/capture", {"checkout_id": checkout})
    client.post("/checkout/refund", {"checkout_id": checkout, "amount": 1000})
    client.post("/checkout/update", {"checkout_id": checkout, "metaData": {"order": ""}})
    client.post("/checkout/refund", {"checkout_id": checkout})
    client.post("/checkout/retrieve", {"checkout_id": checkout})
    proc = run("audit", str(client.write(tmp_path / "t.jsonl")), "--report-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 finding(s)" in proc.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "is empty"),
        ("garbage\n", "line 1 is not JSON"),
        ('{"log": {"entries": 5}}', "not a HAR file"),
        ('{"log": {"entries": [{"request": {}}]}}', "neither a HAR file"),
        ('{"a": 1}\n', "is not an exchange"),
    ],
)
def test_unreadable_traffic_exits_2(
    tmp_path: Path, content: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.har"
    path.write_text(content)
    with pytest.raises(SystemExit) as exited:
        main(["audit", str(path), "--report-dir", str(tmp_path / "r")])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("neuropay: error: ") and reason in err
    assert not (tmp_path / "r").exists()


def test_har_keys_become_labels(tmp_path: Path) -> None:
    key = "sk_test_" + "a1" * 16
    entry = {
        "startedDateTime": "2026-12-01T10:00:00Z",
        "time": 3,
        "request": {
            "method": "POST",
            "url": "http://127.0.0.1:1/checkout/retrieve",
            "headers": [
                {"name": "Authorization", "value": f"Bearer {key}"},
                {"name": "Content-Type", "value": "application/json"},
                {"name": ":authority", "value": "x"},
            ],
            "postData": {"mimeType": "application/json", "text": f'{{"checkout_id": "{key}"}}'},
        },
        "response": {"status": 0, "headers": [], "content": {"text": ""}},
    }
    path = tmp_path / "one.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))
    (exchange,) = read_traffic(path)
    assert exchange.key_label == "key 1" and exchange.key_mode == "test"
    assert exchange.status is None
    record = json.dumps(exchange.to_record())
    assert key not in record and "<key 1>" in record


def test_har_timings_mark_overlapping_requests(tmp_path: Path) -> None:
    def entry(start: str, ms: float, checkout: str) -> dict[str, object]:
        return {
            "startedDateTime": start,
            "time": ms,
            "request": {
                "method": "POST",
                "url": "http://127.0.0.1:1/checkout/refund",
                "headers": [{"name": "Content-Type", "value": "application/json"}],
                "postData": {"text": json.dumps({"checkout_id": checkout, "amount": 1})},
            },
            "response": {"status": 0, "headers": [], "content": {}},
        }

    a, b = "a" * 32, "b" * 32
    entries = [
        entry("2026-12-01T10:00:00.000Z", 50, a),
        entry("2026-12-01T10:00:00.020Z", 50, a),  # starts before the first ends
        entry("2026-12-01T10:00:00.200Z", 10, a),  # after both
        entry("2026-12-01T10:00:00.010Z", 50, b),  # another checkout at the same time
    ]
    path = tmp_path / "t.har"
    path.write_text(json.dumps({"log": {"entries": entries}}))
    marks = {e.started[-4:]: e.overlapped for e in read_traffic(path)}
    assert marks == {"000Z": True, "020Z": True, "200Z": False, "010Z": False}


def test_findings_kept_are_bounded(client: RecordingClient, tmp_path: Path) -> None:
    misuse(client)
    checker = TrafficChecker(load_spec(), keep_findings=2)
    for exchange in read_traffic(client.write(tmp_path / "t.jsonl")):
        checker.check(exchange)
    assert len(checker.findings) == 2 and checker.total_findings == 4
    assert checker.sides["client"] == 4


def test_audit_reports_coverage_root_causes_and_fails_under(
    reference: RunningServer, client: RecordingClient, tmp_path: Path
) -> None:
    """Clean traffic that exercises little of the contract: conformant, its coverage recorded
    (the cells it walked, with their answers), and --fail-under turns the exit to 1."""
    checkout = client.post("/checkout/create", {**CREATE, "capture": False}).json()["checkout_id"]
    client.post("/checkout/test/pay", {"checkout_id": checkout})
    client.post("/checkout/capture", {"checkout_id": checkout})
    client.post(
        "/checkout/capture", {"checkout_id": checkout}, headers={"X-Neuropay-Expect": "409"}
    )
    traffic = str(client.write(tmp_path / "t.jsonl"))
    proc = run("audit", traffic, "--report-dir", str(tmp_path), "--fail-under", "50")
    assert proc.returncode == 1 and "is below --fail-under 50%" in proc.stdout, proc.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["verdict"] == "conformant" and results["root_causes"] == []
    coverage = results["coverage"]
    cells = {(r["status"], r["operation"]): r for r in coverage["lifecycle"] if r["covered"]}
    assert cells[("reserved", "captureCheckout")]["answer"] == "200 → paid"
    assert cells[("paid", "captureCheckout")]["answer"].startswith("409")
    assert 0 < coverage["percent"] < 50
    assert "Contract coverage" in (tmp_path / "report.md").read_text()
    assert run("audit", traffic, "--report-dir", str(tmp_path), "--fail-under", "1").returncode == 0
