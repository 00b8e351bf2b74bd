"""The curl reproduction re-runs a whole failing sequence against a fresh server."""

from __future__ import annotations

import os
import subprocess

import httpx

from neuropay_contract.contract import (
    ContractClient,
    Driver,
    PaymentMeans,
    Recorder,
    Secrets,
    sequence_to_curl,
)
from neuropay_contract.server import RunningServer
from neuropay_contract.spec import load_spec


def test_script_replays_the_sequence_with_fresh_ids(server: RunningServer) -> None:
    spec = load_spec()
    secrets = Secrets()
    secrets.add(server.test_key, "NEUROPAY_API_KEY")
    recorder = Recorder(secrets=secrets)
    with httpx.Client() as http:
        driver = Driver(
            ContractClient(server.url, server.test_key, spec, recorder, http),
            PaymentMeans.from_spec(spec),
        )
        paid = driver.reach("partialRefund")
    script = sequence_to_curl(recorder.steps)
    assert server.test_key not in script and "$NEUROPAY_API_KEY" in script
    assert (
        paid["checkout_id"] not in script.split("JSON", 2)[-1]
    )  # later steps use the variable, not the old id
    proc = subprocess.run(
        ["sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NEUROPAY_API_KEY": server.test_key},
    )
    assert proc.returncode == 0, proc.stderr
    assert '"status":"partialRefund"' in proc.stdout.replace(" ", "")
