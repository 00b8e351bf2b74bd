"""``neuropay mock``: run the reference server (the sandbox integrators develop against), and
``neuropay mock keys`` to manage the keys stored in its database."""

from __future__ import annotations

import ipaddress
import os
import shlex
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click

from ..errors import NeuropayError, UsageError
from .console import Console
from .keys import ApiKey, make_key, parse_key_option, read_key_file
from .workers import serve_workers, worker_settings

KEYS_ENV = "NEUROPAY_MOCK_API_KEYS"


def default_db_path() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "neuropay" / "mock.sqlite3"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn re-raises a caught SIGTERM once it has shut down, so the process dies by the
        signal (exit 143) before the store is closed. Here SIGTERM is the normal way to stop:
        shut down, close the store (merging the WAL), exit 0."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            captured = getattr(self, "_captured_signals", None)
            if sig == signal.SIGTERM and isinstance(captured, list) and sig in captured:
                captured.remove(sig)

    return Server


@click.group("mock", invoke_without_command=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind (loopback by default; anything else warns: the sandbox has no TLS).",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 = any free port).",
)
@click.option(
    "--db",
    "db",
    default=None,
    help="SQLite file, :memory:, or a PostgreSQL URL (postgresql://user:pass@host:port/db) for a"
    " sandbox shared by several instances  [default: $XDG_DATA_HOME/neuropay/mock.sqlite3]",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    envvar=KEYS_ENV,
    metavar="KEY[:test|live][@MERCHANT]",
    help=f"A key to accept (repeatable; or ${KEYS_ENV}, space-separated). Mode defaults from the"
    " sk_test_/sk_live_ prefix; merchant to merchant-1.",
)
@click.option(
    "--api-key-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Keys to accept, one KEY[:test|live][@MERCHANT] a line (keeps them out of `ps`).",
)
@click.option(
    "--spec",
    type=click.Path(path_type=Path),
    default=None,
    help="Spec to implement (default: the bundled one).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port and the SQLite file (not with :memory:).",
)
@click.option(
    "--public-url",
    default=None,
    metavar="URL",
    help="Base URL clients reach the sandbox at (behind a proxy or tunnel): checkout urls and"
    " client_page links use it, never the Host header  [default: the address it listens on]",
)
@click.option(
    "--frame-ancestors",
    default="",
    metavar="ORIGINS",
    help="Space-separated origins that may frame `template: iframe` checkout pages, besides"
    " each checkout's returnUrl origin.",
)
@click.option("-q", "--quiet", is_flag=True, help="No line per request on stderr.")
@click.pass_context
def mock_command(
    ctx: click.Context,
    host: str,
    port: int,
    db: str | None,
    api_keys: tuple[str, ...],
    api_key_file: Path | None,
    spec: Path | None,
    workers: int,
    public_url: str | None,
    frame_ancestors: str,
    quiet: bool,
) -> int | None:
    """Run the stateful reference server until Ctrl-C or SIGTERM (exit 0 once the database is
    closed).

    The database keeps only a hash of each key and a short prefix to tell them apart. With no
    key given, a new database gets a test key for two merchants and a live key for the first,
    printed once at start: keep them. Keys given (--api-key, --api-key-file, $NEUROPAY_MOCK_API_KEYS)
    are never printed. `neuropay mock keys` lists, adds and revokes stored keys. Each API
    request gets one line on stderr: method, path, status, the error code and message of a
    refusal, merchant and mode, time taken (never the key).

    With --workers N, N processes serve the port over the same database, with the same
    guarantees (see "Running a shared sandbox" in the README); a worker that dies is replaced.
    """
    if ctx.invoked_subcommand is not None:
        return None
    from ..spec import load_spec
    from .app import create_app

    db_path = db or str(default_db_path())
    if public_url is not None and _origin(public_url) is None:
        raise UsageError(f"--public-url {public_url!r} is not an http:// or https:// URL")
    framers = tuple(frame_ancestors.split())
    for framer in framers:
        if _origin(framer) != framer.lower().rstrip("/"):
            raise UsageError(
                f"--frame-ancestors {framer!r} is not an origin like https://shop.example"
            )
    keys: list[ApiKey] = [parse_key_option(value) for value in api_keys]
    if workers > 1 and db_path == ":memory:":
        raise UsageError("--workers needs a database file: each process has its own :memory:")
    if api_key_file is not None:
        keys += read_key_file(api_key_file)
    if api_keys and ctx.get_parameter_source("api_keys") == click.core.ParameterSource.COMMANDLINE:
        click.echo(
            "neuropay mock: note: keys on the command line are visible to every user of this"
            f" machine (ps); prefer --api-key-file or ${KEYS_ENV}",
            err=True,
        )
    _check_host(host)
    if not is_loopback(host):
        click.echo(
            f"neuropay mock: warning: --host {host} makes the sandbox reachable from the network"
            " (plain HTTP, test data, keys in headers); use 127.0.0.1 unless you mean it",
            err=True,
        )
    # Listen first, then open the database: a start that cannot listen (a busy port) must not
    # generate and store keys it never gets to print. Connections made meanwhile wait in the
    # backlog.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise NeuropayError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    console = None if quiet or workers > 1 else Console()
    try:
        app = create_app(
            load_spec(spec),
            db_path,
            keys or None,
            request_log=None if console is None else console.log,
            public_url=public_url,
            frame_ancestors=framers,
        )
    except BaseException:
        sock.close()
        if console is not None:
            console.close()
        raise
    shown_host = host if ":" not in host else f"[{host}]"
    bound = f"http://{shown_host}:{sock.getsockname()[1]}"
    served_by = f", {workers} workers" if workers > 1 else ""
    click.echo(f"neuropay mock: {bound} (database {app.state.store.description}{served_by})")
    _show_keys(app, db)
    click.echo(f"  docs: {bound}/docs (samples aimed at this server)")
    click.echo(f"  try: curl -X POST {bound}/checkout/create -H 'Authorization: Bearer <key>' ...")
    sys.stdout.flush()
    if workers > 1:
        app.state.store.close()  # the parent only supervises; each worker opens its own
        try:
            serve_workers(sock, workers, worker_settings(db_path, spec, quiet, public_url, framers))
        finally:
            sock.close()
        return 0
    import uvicorn

    from .protocol import SandboxProtocol

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http=SandboxProtocol,
        ws="none",  # no WebSocket: an Upgrade request is an ordinary request here
    )
    try:
        _server_class()(config).run(sockets=[sock])
    finally:
        sock.close()
        app.state.store.close()
        if console is not None:
            console.close()
    return 0


def _show_keys(app: Any, db: str | None) -> None:
    generated = app.state.generated_keys
    if generated:
        click.echo("  new keys, shown only now (the database keeps only their hashes):")
        for key in generated:
            click.echo(f"  {key.mode:4} key of {key.merchant}: {key.key}")
    shown = {(k.merchant, k.mode) for k in generated}
    stored_only = [k for k in app.state.stored_keys if (k.merchant, k.mode) not in shown]
    for key in stored_only:
        click.echo(f"  {key.mode:4} key of {key.merchant}: {key.shown} (stored)")
    if stored_only:
        # The database keeps only hashes: a key not at hand is made anew, never shown again.
        first = stored_only[0]
        click.echo(
            "  a stored key is shown by its prefix only; without it at hand, make a new one:"
            f" neuropay mock keys add --merchant {first.merchant} --mode {first.mode}"
            + (f" --db {shlex.quote(db)}" if db else "")
        )


def _open_store(ctx: click.Context, db: str | None) -> Any:
    """The database named by the subcommand's --db, else by `neuropay mock --db`, else the
    default."""
    from .storage import open_storage

    outer: click.Context | None = ctx
    while outer is not None and outer.command is not mock_command:
        outer = outer.parent
    inherited = outer.params.get("db") if outer is not None else None
    path = db or inherited or str(default_db_path())
    if path == ":memory:":
        raise UsageError(
            "mock keys needs the sandbox's database file or URL: keys stored in :memory: vanish "
            "when this command ends"
        )
    return open_storage(path)


_DB_OPTION = click.option(
    "--db", "db", default=None, help="The sandbox's database  [default: as for neuropay mock]"
)


@mock_command.group("keys")
def keys_group() -> None:
    """List, add and revoke the API keys stored in a sandbox database (a running server sees
    the change within a second)."""


@keys_group.command("list")
@_DB_OPTION
@click.pass_context
def keys_list(ctx: click.Context, db: str | None) -> None:
    """Stored keys: display prefix, mode, merchant, when added (never the key: only its hash
    is stored)."""
    store = _open_store(ctx, db)
    try:
        rows = store.run(lambda s: s.api_keys())
    finally:
        store.close()
    for key in rows:
        added = time.strftime("%Y-%m-%d %H:%M", time.localtime(key.created))
        click.echo(f"{key.shown:18} {key.mode:4}  {key.merchant:20} added {added}")


@keys_group.command("add")
@click.argument("key", required=False, metavar="[KEY[:test|live][@MERCHANT] | -]")
@click.option("--merchant", default="merchant-1", show_default=True, help="For a new key.")
@click.option("--mode", type=click.Choice(["test", "live"]), default="test", show_default=True)
@_DB_OPTION
@click.pass_context
def keys_add(ctx: click.Context, key: str | None, merchant: str, mode: str, db: str | None) -> None:
    """Store a key. Without KEY a new one is made for --merchant and --mode and printed (once);
    "-" reads KEY from stdin (out of `ps`). A key stored for another merchant or mode is
    refused."""
    from .keys import stored

    if key == "-":
        key = sys.stdin.readline().strip()
    new = parse_key_option(key) if key else ApiKey(make_key(mode), merchant, mode)
    store = _open_store(ctx, db)
    try:
        added = store.run(lambda s: s.add_key(stored(new)))
    finally:
        store.close()
    if key is None:
        click.echo(f"{new.mode} key of {new.merchant}: {new.key}")
        click.echo("  shown only now: the database keeps only its hash", err=True)
    else:
        state = "added" if added else "already stored"
        click.echo(f"{stored(new).shown} {new.mode} key of {new.merchant}: {state}")


@keys_group.command("revoke")
@click.argument("key", metavar="KEY|PREFIX")
@_DB_OPTION
@click.pass_context
def keys_revoke(ctx: click.Context, key: str, db: str | None) -> None:
    """Forget a key, named by itself or by the prefix `keys list` shows (which must name one
    key); requests with it are refused from then on."""
    from .keys import key_hash

    wanted = key.rstrip("…")

    def revoke(s: Any) -> str:
        rows = s.api_keys()
        matches = [k for k in rows if k.key_hash == key_hash(key)]
        if not matches:
            matches = [k for k in rows if k.prefix == wanted]
        if not matches:
            raise UsageError(f"no stored key is {wanted!r}; `neuropay mock keys list` shows them")
        if len(matches) > 1:
            raise UsageError(
                f"{len(matches)} keys start with {wanted!r}; give the whole key to revoke one"
            )
        s.remove_key(matches[0].key_hash)
        return f"{matches[0].shown} {matches[0].mode} key of {matches[0].merchant}: revoked"

    store = _open_store(ctx, db)
    try:
        click.echo(store.run(revoke))
    finally:
        store.close()


def _check_host(host: str) -> None:
    """A one-line usage error, before any other output, for a --host that names no address."""
    import socket

    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"--host {host!r} names no address to listen on: {reason}") from None


def _origin(url: str) -> str | None:
    from .pages import origin_of

    return origin_of(url)
