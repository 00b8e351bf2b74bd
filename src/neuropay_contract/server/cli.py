"""``neuropay mock``: run the reference server (the sandbox integrators develop against)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

from ..errors import NeuropayError, UsageError
from .console import Console
from .keys import ApiKey, parse_key_option
from .workers import serve_workers, worker_settings


def default_db_path() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "neuropay" / "mock.sqlite3"


@click.command("mock")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind (loopback by default).",
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
    help="SQLite file, or :memory:  [default: $XDG_DATA_HOME/neuropay/mock.sqlite3]",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    metavar="KEY[:test|live][@MERCHANT]",
    help="A key to accept (repeatable). Mode defaults from the sk_test_/sk_live_ prefix; merchant to merchant-1.",
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
@click.option("-q", "--quiet", is_flag=True, help="No line per request on stderr.")
def mock_command(
    host: str,
    port: int,
    db: str | None,
    api_keys: tuple[str, ...],
    spec: Path | None,
    workers: int,
    quiet: bool,
) -> int:
    """Run the stateful reference server until Ctrl-C.

    Keys are stored in the database, so a restart on the same --db accepts the same keys. With no
    --api-key on a new database it creates a test key for two merchants and a live key for the
    first, and prints them once at start (the sandbox's credentials; nothing else ever prints keys).
    Each API request then gets one line on stderr: method, path, status, the error code and
    message of a refusal, merchant and mode, time taken.

    With --workers N, N processes serve the port over the same database, with the same
    guarantees (see "Running a shared sandbox" in the README); a worker that dies is replaced.
    """
    import uvicorn

    from ..spec import load_spec
    from .app import create_app

    db_path = db or str(default_db_path())
    keys: list[ApiKey] = [parse_key_option(value) for value in api_keys]
    if workers > 1 and db_path == ":memory:":
        raise UsageError("--workers needs a database file: each process has its own :memory:")
    console = None if quiet or workers > 1 else Console()
    try:
        app = create_app(
            load_spec(spec),
            db_path,
            keys or None,
            request_log=None if console is None else console.log,
        )
    except OSError as exc:
        raise NeuropayError(f"cannot open database {db_path}: {exc}") from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        app.state.store.close()
        raise NeuropayError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    # Listen before printing the URL: connections made as soon as it shows wait in the backlog.
    sock.listen(2048)
    shown_host = host if ":" not in host else f"[{host}]"
    served_by = f", {workers} workers" if workers > 1 else ""
    click.echo(
        f"neuropay mock: http://{shown_host}:{sock.getsockname()[1]}"
        f" (database {db_path}{served_by})"
    )
    for key in app.state.keys:
        click.echo(f"  {key.mode:4} key of {key.merchant}: {key.key}")
    bound = f"http://{shown_host}:{sock.getsockname()[1]}"
    click.echo(f"  docs: {bound}/docs (samples aimed at this server)")
    click.echo(f"  try: curl -X POST {bound}/checkout/create -H 'Authorization: Bearer <key>' ...")
    sys.stdout.flush()
    if workers > 1:
        app.state.store.close()  # the parent only supervises; each worker opens its own
        try:
            serve_workers(sock, workers, worker_settings(db_path, spec, quiet))
        finally:
            sock.close()
        return 0
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        app.state.store.close()
        if console is not None:
            console.close()
    return 0
