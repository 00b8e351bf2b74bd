"""``neuropay mock --workers N``: N server processes sharing one listening socket and one SQLite
file (WAL), under uvicorn's supervisor, which replaces a worker that dies.

The guarantees hold across processes because they are the database's: each request is one
``BEGIN IMMEDIATE`` transaction (the processes' writes take turns, so a refund always sees the
refunds before it and an idempotency key is looked up and stored in one step), committed with
``synchronous=FULL`` before it is answered. A worker killed with ``kill -9`` loses only the
requests it had not answered yet.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

# The parent hands each worker its settings through the environment (workers are spawned, not
# forked: a fork would copy the parent's database thread in the middle of whatever it does).
SETTINGS_ENV = "NEUROPAY_MOCK_WORKER"


def worker_settings(
    db: str,
    spec: Path | None,
    quiet: bool,
    public_url: str | None = None,
    frame_ancestors: tuple[str, ...] = (),
) -> str:
    return json.dumps(
        {
            "db": db,
            "spec": str(spec) if spec else None,
            "quiet": quiet,
            "public_url": public_url,
            "frame_ancestors": list(frame_ancestors),
            "master": os.getpid(),
        }
    )


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_master(master: int | None) -> None:
    """Have the kernel send this worker SIGTERM when its master dies, even by ``kill -9``: else
    the workers serve on unsupervised and hold the port (a restart fails "address in use").
    Linux only; elsewhere a no-op."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if master is not None and os.getppid() != master:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def worker_app() -> Starlette:
    """The app of one worker process (uvicorn's factory), closing its store at shutdown."""
    from ..spec import load_spec
    from .app import create_app
    from .console import Console

    settings: dict[str, Any] = json.loads(os.environ[SETTINGS_ENV])
    die_with_master(settings.get("master"))
    console = None if settings["quiet"] else Console()
    spec = Path(settings["spec"]) if settings["spec"] else None
    app = create_app(
        load_spec(spec),
        settings["db"],
        None,
        None if console is None else console.log,
        public_url=settings.get("public_url"),
        frame_ancestors=tuple(settings.get("frame_ancestors") or ()),
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        app.state.store.close()
        if console is not None:
            console.close()

    app.router.lifespan_context = lifespan
    return app


def serve_workers(sock: Any, workers: int, settings: str) -> None:
    """Run ``workers`` processes on ``sock`` until SIGINT or SIGTERM; replaces dead workers."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from .protocol import SandboxProtocol

    os.environ[SETTINGS_ENV] = settings
    config = uvicorn.Config(
        f"{__name__}:worker_app",
        factory=True,
        workers=workers,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=SandboxProtocol,
        ws="none",  # no WebSocket: an Upgrade request is an ordinary request here
    )
    Multiprocess(config, sockets=[sock]).run()
