"""The curl reproduction re-runs a whole failing sequence against a fresh server."""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import subprocess
import threading

import httpx

from neuropay_contract.contract import (
    ContractClient,
    Driver,
    PaymentMeans,
    Recorder,
    Secrets,
    sequence_to_curl,
)
from neuropay_contract.results import Step
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


def test_bodies_with_control_characters_are_replayed_byte_for_byte() -> None:
    """Fuzzed bodies hold NUL and other control bytes, quotes, % and backslashes, and may say
    JSON on a line of their own: none of that fits a heredoc, and the script must still send
    the exact bytes (with ids from earlier answers still substituted)."""
    received: list[bytes] = []

    class Capture(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            answer = json.dumps({"checkout_id": "d" * 32}).encode()  # a fresh id on replay
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    hostile = "\x00\x01\x1f\x7f '%s' \\n \\\\ %% é\r\nJSON\n$HOME `x`"
    with socketserver.TCPServer(("127.0.0.1", 0), Capture) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        steps = [
            Step(
                "POST",
                f"{url}/checkout/create",
                "createCheckout",
                {},
                {"amount": 1},
                200,
                {},
                {"checkout_id": "c" * 32},
            ),
            Step(
                "POST",
                f"{url}/checkout/update",
                "updateCheckout",
                {},
                '{"checkout_id": "' + "c" * 32 + '", "x": "' + hostile + '"}',
                400,
                {},
                None,
            ),
            Step("POST", f"{url}/checkout/update", "updateCheckout", {}, hostile, 400, {}, None),
        ]
        script = sequence_to_curl(steps)
        proc = subprocess.run(["sh", "-c", script], capture_output=True, timeout=60)
        httpd.shutdown()
    assert proc.returncode == 0, proc.stderr
    assert "\x00" not in script  # the script itself is plain text
    assert received[1] == ('{"checkout_id": "' + "d" * 32 + '", "x": "' + hostile + '"}').encode()
    assert received[2] == hostile.encode()
