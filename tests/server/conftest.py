"""Fixtures of the server tests: a PostgreSQL server shared by the tests of one xdist worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from neuropay_contract.server.pgserver import PostgresServer, running_postgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server
