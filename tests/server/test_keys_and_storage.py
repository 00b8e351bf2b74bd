"""Keys are secrets (stored hashed, printed only when generated, given without `ps` seeing them,
managed with `neuropay mock keys`), and the database is private, writable or refused at start,
and closed cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neuropay_contract.server import start_server
from neuropay_contract.server.cli import is_loopback
from neuropay_contract.server.keys import ApiKey, display_prefix, key_hash

from ._helpers import api, create, start_mock

NEUROPAY = [sys.executable, "-m", "neuropay_contract"]
KEY = "sk_test_" + "a1b2c3d4" * 4
OTHER = "sk_test_" + "9f8e7d6c" * 4


def neuropay(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NEUROPAY, *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env={**os.environ, **env},
    )


def banner(proc: subprocess.Popen[str]) -> str:
    """What `neuropay mock` prints at start, up to its `try:` line."""
    assert proc.stdout is not None
    lines = [proc.stdout.readline()]
    while lines[-1] and not lines[-1].startswith("  try:"):
        lines.append(proc.stdout.readline())
    return "".join(lines)


def file_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_the_database_holds_hashes_and_a_display_prefix_never_a_key(tmp_path: Path) -> None:
    db = tmp_path / "keys.sqlite3"
    with (
        start_server(db, [ApiKey(KEY, "merchant-1", "test")]) as server,
        api(server.url, KEY) as client,
    ):
        create(client)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key_hash, prefix, merchant, mode FROM api_keys").fetchall()
    conn.close()
    assert rows == [(key_hash(KEY), "sk_test_a1b2", "merchant-1", "test")]
    assert KEY.encode() not in file_bytes(db)
    assert display_prefix("short-secret") == "shor"  # never more than a third of a key


def test_the_database_file_is_created_private(tmp_path: Path) -> None:
    db = tmp_path / "new" / "sandbox.sqlite3"
    with start_server(db):
        pass
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_plain_keys_of_an_old_database_are_hashed_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:  # the schema before keys were hashed
        conn.execute("CREATE TABLE api_keys (key TEXT PRIMARY KEY, merchant TEXT, mode TEXT)")
        conn.execute("INSERT INTO api_keys VALUES (?, 'merchant-1', 'test')", (KEY,))
        conn.execute("INSERT INTO api_keys VALUES (?, 'merchant-2', 'test')", (OTHER,))
    conn.close()
    with start_server(db) as server:
        assert server.keys == []  # nothing generated: the database has keys
        with api(server.url, KEY) as client:
            assert (
                client.post("/checkout/retrieve", json={"checkout_id": "0" * 32}).status_code == 404
            )
        with api(server.url, OTHER) as client:
            assert (
                client.post("/checkout/retrieve", json={"checkout_id": "0" * 32}).status_code == 404
            )
    assert KEY.encode() not in file_bytes(db) and OTHER.encode() not in file_bytes(db)


def test_generated_keys_are_printed_once_and_given_keys_never(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    proc, url, keys = start_mock(db)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    printed: list[str] = []
    proc, url, again = start_mock(db, new_keys=0, printed=printed)
    proc.send_signal(signal.SIGTERM)
    out = "".join(printed) + proc.communicate(timeout=20)[0]
    assert again == [] and all(key not in out for key in keys)
    assert f"{display_prefix(keys[0])}… (stored)" in out
    key_file = tmp_path / "keys.txt"
    key_file.write_text(f"# the sandbox's keys\n{KEY}\n\n{OTHER}@merchant-2\n")
    proc, url, _ = start_mock(
        tmp_path / "given.sqlite3", "--api-key-file", str(key_file), new_keys=0
    )
    try:
        with api(url, OTHER) as client:
            assert create(client)["livemode"] is False
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert KEY not in out + err and OTHER not in out + err
    assert "note:" not in err  # a file keeps keys out of ps: no warning


def test_keys_from_the_environment_and_the_ps_warning(tmp_path: Path) -> None:
    env = {**os.environ, "NEUROPAY_MOCK_API_KEYS": f"{KEY} {OTHER}@merchant-2"}
    proc = subprocess.Popen(
        [*NEUROPAY, "mock", "--port", "0", "--db", ":memory:"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    out = banner(proc)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=20)[1]
    assert (
        "neuropay mock: http://" in out
        and KEY not in out
        and "key of merchant-2: sk_test_9f8e… (stored)" in out
    )
    assert "note:" not in err
    cli = subprocess.Popen(
        [*NEUROPAY, "mock", "--port", "0", "--db", ":memory:", "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner(cli)
    cli.send_signal(signal.SIGTERM)
    _, err = cli.communicate(timeout=20)
    assert "keys on the command line are visible to every user" in err


def test_keys_list_add_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.sqlite3")
    added = neuropay("mock", "keys", "add", "-", "--db", db, stdin=f"{KEY}@merchant-7\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "sk_test_a1b2… test key of merchant-7: added\n"
    made = neuropay("mock", "keys", "add", "--mode", "live", "--merchant", "shop", "--db", db)
    assert made.returncode == 0
    new_key = made.stdout.split(": ")[1].strip()
    assert new_key.startswith("sk_live_") and len(new_key) == 40
    listed = neuropay("mock", "--db", db, "keys", "list")  # --db of `mock` applies too
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["sk_test_a1b2…", "test", "merchant-7"],
        [display_prefix(new_key) + "…", "live", "shop"],
    ]
    assert KEY not in listed.stdout and new_key not in listed.stdout
    with start_server(db) as server:
        with api(server.url, new_key) as client:
            assert create(client)["livemode"] is True
        revoked = neuropay("mock", "keys", "revoke", "sk_test_a1b2…", "--db", db)
        assert revoked.returncode == 0, revoked.stderr
        assert "revoked" in revoked.stdout
        time.sleep(1.2)  # a running server re-reads keys about once a second
        with api(server.url, KEY) as client:
            assert client.post("/checkout/create", json={}).status_code == 401
    missing = neuropay("mock", "keys", "revoke", "sk_nope", "--db", db)
    assert missing.returncode == 2
    assert missing.stderr.startswith("neuropay: error: no stored key is 'sk_nope'")


def test_a_key_of_another_merchant_is_refused_not_moved(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.sqlite3")
    assert neuropay("mock", "keys", "add", f"{KEY}@merchant-1", "--db", db).returncode == 0
    for args in (
        ["mock", "keys", "add", f"{KEY}@merchant-2", "--db", db],
        ["mock", "--port", "0", "--db", db, "--api-key", f"{KEY}:live"],
    ):
        refused = neuropay(*args)
        assert refused.returncode == 2
        assert refused.stderr.splitlines() == [
            "neuropay: error: the key sk_test_a1b2… is already the test key of merchant-1;"
            " revoke it first (neuropay mock keys revoke) or use another key"
        ] or refused.stderr.splitlines()[-1].startswith("neuropay: error: the key sk_test_a1b2…")
    listed = neuropay("mock", "keys", "list", "--db", db)
    assert listed.stdout.split()[:3] == ["sk_test_a1b2…", "test", "merchant-1"]


def test_sigterm_closes_the_store_and_exits_0(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    proc, url, keys = start_mock(db)
    with api(url, keys[0]) as client:
        made = create(client)
    assert Path(f"{db}-wal").exists()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert not Path(f"{db}-wal").exists()  # closed: the WAL was merged into the file
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM checkouts").fetchone()[0] == 1
    conn.close()
    assert made["checkout_id"]


def _immutable(path: Path) -> bool:
    return subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0


@pytest.mark.parametrize("case", ["immutable file", "directory", "under /proc", "parent is a file"])
def test_an_unwritable_db_stops_at_start(tmp_path: Path, case: str) -> None:
    db = tmp_path / "sandbox.sqlite3"
    if case == "immutable file":
        with start_server(db):
            pass
        if not _immutable(db):
            pytest.skip("chattr +i is not available here")
    elif case == "directory":
        db.mkdir()
    elif case == "under /proc":
        db = Path("/proc/neuropay-sandbox.sqlite3")
    else:
        (tmp_path / "file").write_text("x")
        db = tmp_path / "file" / "sandbox.sqlite3"
    try:
        result = neuropay("mock", "--port", "0", "--db", str(db))
    finally:
        if case == "immutable file":
            subprocess.run(["chattr", "-i", str(db)], check=True)
    assert result.returncode == 2, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuropay: error: "), result.stderr
    assert "--db" in lines[0] and "Traceback" not in result.stderr


def test_a_non_loopback_host_warns_that_the_sandbox_is_reachable() -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the warning comes before the bind fails,
    # so the test never listens beyond loopback.
    result = neuropay("mock", "--host", "192.0.2.1", "--port", "0", "--db", ":memory:")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("neuropay mock: warning: --host 192.0.2.1 makes the sandbox")
    assert lines[1].startswith("neuropay: error: cannot listen on 192.0.2.1:0")
    assert result.returncode == 2
    assert [is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost")] == [True] * 4
    assert [is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.com")] == [False] * 4


def test_a_start_on_a_busy_port_stores_no_key_and_the_next_start_prints_them(
    tmp_path: Path,
) -> None:
    """The first start fails (the port is taken): no key may be generated and stored unshown;
    the next start generates and prints them in full."""
    import socket

    db = tmp_path / "sandbox.sqlite3"
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        port = str(busy.getsockname()[1])
        failed = neuropay("mock", "--port", port, "--db", str(db))
    finally:
        busy.close()
    assert failed.returncode == 2
    assert failed.stderr.startswith("neuropay: error: cannot listen on 127.0.0.1:")
    assert "sk_" not in failed.stdout + failed.stderr
    assert not db.exists() or neuropay("mock", "keys", "list", "--db", str(db)).stdout == ""
    # new keys, printed in full: two merchants' test keys, a live key, a rotated test key
    proc, _url, keys = start_mock(db)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert len(keys) == 4


def test_a_restart_shows_prefixes_and_how_to_make_a_new_key(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    proc, _url, keys = start_mock(db)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    printed: list[str] = []
    proc, _url, _ = start_mock(db, new_keys=0, printed=printed)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    out = "".join(printed)
    assert f"{display_prefix(keys[0])}… (stored)" in out
    assert f"neuropay mock keys add --merchant merchant-1 --mode test --db {db}" in out
    assert all(key not in out for key in keys)
