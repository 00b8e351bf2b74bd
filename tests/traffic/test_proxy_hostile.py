"""The proxy under hostile traffic and failures: never a false green, never a lost report, never
a crash on what a client or a server sends (deep, compressed, huge bodies; odd headers)."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from neuropay_contract.server import serve_app, start_server
from neuropay_contract.spec import load_spec
from neuropay_contract.traffic.checker import TrafficChecker
from neuropay_contract.traffic.cli import finish
from neuropay_contract.traffic.exchange import Exchange
from neuropay_contract.traffic.findings import Finding
from neuropay_contract.traffic.proxy import RESPONSE_KEEP, ValidatingProxy

from ._traffic import RecordingClient
from .test_audit import misuse
from .test_proxy import _start_proxy


def _checking_process(proxy_pid: int) -> int:
    """The pid of the proxy's checking process (not multiprocessing's resource tracker)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{proxy_pid}/task/{proxy_pid}/children").read_text().split()
        for child in children:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in command and b"resource_tracker" not in command:
                return int(child)
        time.sleep(0.1)
    raise AssertionError("the proxy started no checking process")


def _wait_for_findings(reports: Path, seconds: float = 30) -> None:
    """Until the checkpointed reports hold a finding (the checking process rewrites them every
    few seconds while it runs)."""
    deadline = time.monotonic() + seconds
    while True:
        assert time.monotonic() < deadline, "no report of the exchanges checked appeared"
        if all((reports / n).exists() for n in ("report.html", "report.md", "junit.xml")):
            results = json.loads((reports / "results.json").read_text())
            if any(c["outcome"] == "failed" for c in results["checks"]):
                return
        time.sleep(0.2)


@pytest.mark.parametrize("when", ["after checking", "before any exchange"])
def test_a_dead_checking_process_is_never_a_green_run(tmp_path: Path, when: str) -> None:
    """The checking process killed (OOM killer, kill -9): the proxy exits 2 with one line and
    leaves the reports of what was checked, marked incomplete; never exit 0 and no report."""
    reports = tmp_path / "r"
    with start_server() as server:
        proc, url = _start_proxy(server.url, "--report-dir", str(reports), "--quiet")
        try:
            worker = _checking_process(proc.pid)
            if when == "after checking":
                client = RecordingClient(url, server.test_key)
                misuse(client)
                client.close()
                _wait_for_findings(reports)
            os.kill(worker, signal.SIGKILL)
            time.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuropay: error: "), err
    assert "checking process was killed by signal 9" in lines[0]
    results = json.loads((reports / "results.json").read_text())
    assert results["verdict"] == "error"
    for name in ("report.html", "report.md", "junit.xml"):
        assert (reports / name).exists()
    if when == "after checking":
        assert any(c["outcome"] == "failed" for c in results["checks"])


# -- a target that answers whatever bytes a test gives it ------------------------------------


class RawTarget:
    """A TCP server answering each request with the bytes ``answers[X-Answer header]``, not
    through any HTTP library: it can send what no well-behaved server would."""

    def __init__(self, answers: dict[str, bytes]) -> None:
        self.answers = answers
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
            length = int(fields.get(b"content-length", b"0").strip() or 0)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                body += chunk
            name = fields.get(b"x-answer", b"").strip().decode()
            conn.sendall(self.answers[name])

    def close(self) -> None:
        self.sock.close()


def _answer(body: bytes, *headers: bytes, status: bytes = b"200 OK") -> bytes:
    lines = [b"HTTP/1.1 " + status, b"content-type: application/json", *headers]
    lines.append(b"content-length: %d" % len(body))
    return b"\r\n".join([*lines, b"connection: close", b"", body])


def _chunked(body: bytes, *headers: bytes) -> bytes:
    """An answer of unknown length (the proxy's streaming path)."""
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 65536]), body[i : i + 65536])
        for i in range(0, len(body), 65536)
    )
    head = [b"HTTP/1.1 200 OK", b"content-type: application/json", *headers]
    return b"\r\n".join([*head, b"transfer-encoding: chunked", b"", chunks + b"0\r\n\r\n"])


def _deep(kind: str, depth: int) -> bytes:
    opener, closer = ("[", "]") if kind == "array" else ('{"a":', "}")
    return (opener * depth + "1" + closer * depth).encode()


@contextmanager
def _proxy(answers: dict[str, bytes]) -> Iterator[tuple[str, TrafficChecker, list[Exchange]]]:
    """The proxy in front of a raw target, checking in-process; also yields the exchanges."""
    target = RawTarget(answers)
    checker = TrafficChecker(load_spec())
    seen: list[Exchange] = []
    check = checker.check

    def keep(exchange: Exchange) -> list[Finding]:
        seen.append(exchange)
        return check(exchange)

    checker.check = keep  # type: ignore[method-assign]
    try:
        with serve_app(ValidatingProxy(checker, target.url), lifespan="on") as url:
            yield url, checker, seen
    finally:
        target.close()


def _post(url: str, answer: str, body: bytes = b'{"checkout_id": "c1"}') -> httpx.Response:
    headers = {
        "authorization": "Bearer sk_test_" + "a" * 24,
        "content-type": "application/json",
        "x-answer": answer,
    }
    return httpx.post(f"{url}/checkout/retrieve", content=body, headers=headers, timeout=60)


def _reports_of(checker: TrafficChecker, where: Path) -> int:
    """Write the reports as the proxy does on exit; their total size in bytes."""
    code = finish(checker, "target", time.time(), where, "proxy")
    assert code == 1
    return sum(p.stat().st_size for p in where.iterdir())


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", [33, 900, 5000])
def test_deep_bodies_are_a_finding_never_a_crash(tmp_path: Path, kind: str, depth: int) -> None:
    """A body nested deeper than the spec's x-limits.max_json_depth, request or answer, is a
    finding on its exchange; the answer is relayed unchanged and the reports are written."""
    deep = _deep(kind, depth)
    with _proxy({"deep": _answer(deep), "plain": _answer(b'{"id": "c1"}')}) as (url, checker, _):
        answered = _post(url, "deep")
        assert answered.status_code == 200 and answered.content == deep
        assert _post(url, "plain", body=deep).status_code == 200
    rules = [(f.exchange, f.rule) for f in checker.findings]
    assert (1, "response.json") in rules and (2, "request.json") in rules
    assert any("deeper than 32 levels" in f.message for f in checker.findings)
    assert _reports_of(checker, tmp_path / "r") < 10 << 20


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_compressed_bodies_are_decoded_bounded(tmp_path: Path, encoding: str, framing: str) -> None:
    """64 KB of gzip or deflate holding 64 MB: relayed unchanged, decoded no further than the
    proxy keeps (the answer is then not judged), and the reports stay small."""
    wbits = zlib.MAX_WBITS | (16 if "gzip" in encoding else 0)
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    bomb = packer.compress(b"[" + b"0," * (32 << 20) + b"0]") + packer.flush()
    header = f"content-encoding: {encoding}".encode()
    frame = _answer if framing == "content-length" else _chunked
    small = zlib.compressobj(9, zlib.DEFLATED, wbits)
    fine = small.compress(b'{"checkout_id": "c1", "amount": "x"}') + small.flush()
    with _proxy({"bomb": frame(bomb, header), "fine": frame(fine, header)}) as (url, checker, seen):
        with (
            httpx.Client(timeout=60) as client,
            client.stream(
                "POST", f"{url}/checkout/retrieve", headers={"x-answer": "bomb"}
            ) as answered,
        ):
            assert b"".join(answered.iter_raw()) == bomb
        _post(url, "fine")
    assert len(seen[0].response_body) <= RESPONSE_KEEP and seen[0].response_truncated
    assert (
        seen[1].response_body.startswith(b'{"checkout_id": "c1"') and not seen[1].response_truncated
    )
    assert any(f.rule == "response.body-schema" for f in checker.findings if f.exchange == 2)
    assert _reports_of(checker, tmp_path / "r") < 10 << 20


HOSTILE_ANSWERS = {
    "status 999": _answer(b"{}", status=b"999 Odd"),
    "status 600": _answer(b"{}", status=b"600 Odd"),
    "status 099": _answer(b"{}", status=b"099 Odd"),
    "utf-8 value": _answer(b"{}", "x-note: grüße €".encode()),
    "latin-1 value": _answer(b"{}", b"x-note: caf\xe9"),
    "escape in value": _answer(b"{}", b"x-note: \x1b]8;;http://evil\x07click"),
    "DEL in value": _answer(b"{}", b"x-note: a\x7fb"),
    "NUL in value": _answer(b"{}", b"x-note: a\x00b"),
    "space in name": _answer(b"{}", b"x bad: 1"),
    "bidi override": _answer(b"{}", "x-note: \u202egpj.exe".encode()),
}


@pytest.mark.parametrize("name", list(HOSTILE_ANSWERS))
def test_hostile_header_values_and_statuses_are_relayed_or_refused(
    tmp_path: Path, name: str
) -> None:
    """Whatever the target's answer holds, the client gets an HTTP answer (relayed, or a 502
    error envelope), the exchange is recorded, and it carries a finding on the server."""
    record = io.StringIO()
    target = RawTarget(HOSTILE_ANSWERS)
    checker = TrafficChecker(load_spec())
    try:
        with serve_app(ValidatingProxy(checker, target.url, record=record), lifespan="on") as url:
            answered = _post(url, name)
            again = _post(url, "status 999")  # the proxy still serves
    finally:
        target.close()
    assert again.status_code == 502
    if answered.status_code == 502:
        assert answered.json()["error"]["code"] == "internal_error"
        assert "neuropay proxy" in answered.json()["error"]["message"]
    else:
        assert answered.status_code == 200
        assert answered.headers.raw[-1] != (b"", b"")  # the header as it came
    assert len(record.getvalue().splitlines()) == 2
    assert "server" in {f.side for f in checker.findings if f.exchange == 1}
    reports = tmp_path / "r"
    _reports_of(checker, reports)
    for path in reports.iterdir():
        text = path.read_text()
        assert "\x1b" not in text and "\u202e" not in text and "\x7f" not in text


def _recorded(index: int, request: bytes, answer: bytes, content_type: str) -> str:
    return json.dumps(
        {
            "index": index,
            "method": "POST",
            "url": "http://shop.example/checkout/retrieve",
            "auth": "bearer",
            "key": "key 1",
            "key_mode": "test",
            "request": {
                "headers": {"content-type": "application/json"},
                "body": request.decode(),
            },
            "response": {
                "status": 200,
                "headers": {"content-type": content_type},
                "body": answer.decode(),
            },
        }
    )


def test_huge_and_deep_recordings_audit_to_small_reports(tmp_path: Path) -> None:
    """Recorded bodies 50 MB large or 5,000 levels deep, request or answer: findings, exit 1,
    and reports under 10 MB (bodies are stored bounded, as `neuropay test` stores them)."""
    huge = b'"' + b"x" * (50 << 20) + b'"'
    many = b'{"pad": "' + b"y" * 40_000 + b'"}'
    lines = [
        _recorded(1, huge, b"{}", "application/json"),
        _recorded(2, b"{}", huge, "text/plain"),
        _recorded(3, _deep("array", 5000), b"{}", "application/json"),
        _recorded(4, b"{}", _deep("object", 5000), "application/json"),
        *(_recorded(i, many, many, "application/json") for i in range(5, 1500)),
    ]
    traffic = tmp_path / "t.jsonl"
    traffic.write_text("\n".join(lines) + "\n")
    reports = ["--report-dir", str(tmp_path / "r")]
    proc = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "audit", str(traffic), "--quiet", *reports],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    sizes = {p.name: p.stat().st_size for p in (tmp_path / "r").iterdir()}
    assert sum(sizes.values()) < 10 << 20, sizes
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    failed = {c["failure"]["rule"] for c in results["checks"] if c["failure"]}
    assert {"request.json", "response.json"} <= failed


def test_request_heads_are_bounded_and_timed_like_the_reference_server(tmp_path: Path) -> None:
    """Connections holding half a request head are closed after the reference server's head
    timeout, and a head over its size limit is refused with the error envelope."""
    from neuropay_contract.server.protocol import HEAD_TIMEOUT_S, MAX_HEAD_BYTES

    with start_server() as server:
        proc, url = _start_proxy(server.url, "--report-dir", str(tmp_path / "r"), "--quiet")
        host, port = url.removeprefix("http://").split(":")
        try:
            idle = [socket.create_connection((host, int(port))) for _ in range(50)]
            for sock in idle:
                sock.sendall(b"POST /checkout/create HTTP/1.1\r\nHost: x\r\nX-Half: ")
            with socket.create_connection((host, int(port)), timeout=HEAD_TIMEOUT_S) as big:
                big.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 1024))
                assert b'"invalid_request"' in big.recv(65536)
            deadline = time.monotonic() + HEAD_TIMEOUT_S + 10
            for sock in idle:
                with sock:
                    sock.settimeout(max(0.1, deadline - time.monotonic()))
                    assert sock.recv(1024) == b""  # closed by the proxy
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()


def test_recorded_control_and_bidi_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    """ESC, OSC and right-to-left overrides in a recording (URL, headers, bodies) are printed
    escaped by the audit, as the reports write them."""
    odd = "\x1b[2J\x1b]8;;http://evil\x07\u202egpj.exe\x9b"
    line = json.loads(_recorded(1, json.dumps({"checkout_id": odd}).encode(), b"{}", odd))
    line["url"] += "?q=" + odd
    line["request"]["headers"]["x-note"] = odd
    line["response"]["status"] = 500
    traffic = tmp_path / "t.jsonl"
    traffic.write_text(json.dumps(line, ensure_ascii=False) + "\n")
    reports = ["--report-dir", str(tmp_path / "r")]
    proc = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "audit", str(traffic), *reports],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    shown = proc.stdout + proc.stderr
    assert "[response." in shown  # findings were printed
    for char in "\x1b\x07\u202e\x9b":
        assert char not in shown, repr(char)
