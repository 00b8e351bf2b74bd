"""A client that records its own exchanges the way the proxy does, for the audit's tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from neuropay_contract.traffic.exchange import (
    Exchange,
    KeyLabels,
    clean_headers,
    repeated_headers,
)


class RecordingClient:
    """Sends requests with httpx and keeps each one as an :class:`Exchange`."""

    def __init__(self, base_url: str, key: str | None) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=10)
        self.key = key
        self.labels = KeyLabels()
        self.exchanges: list[Exchange] = []

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        key: str | None = "default",
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        raw: bytes | None = None,
        method: str = "POST",
        chunked: bool = False,
    ) -> httpx.Response:
        # Header lines as sent (a list may repeat a name); the key's Authorization comes first.
        sent = list(headers.items() if isinstance(headers, dict) else headers or [])
        use = self.key if key == "default" else key
        if use is not None:
            sent.insert(0, ("Authorization", f"Bearer {use}"))
        if raw is None and body is not None:
            raw = json.dumps(body).encode()
            if not any(name.lower() == "content-type" for name, _ in sent):
                sent.append(("Content-Type", "application/json"))
        content: Any = iter([raw]) if chunked and raw is not None else raw
        response = self.client.request(method, path, content=content, headers=sent)
        lines = response.request.headers.multi_items()
        auth, label, mode = self.labels.classify(
            [value for name, value in lines if name.lower() == "authorization"]
        )
        self.exchanges.append(
            Exchange(
                index=len(self.exchanges) + 1,
                method=method,
                url=str(response.request.url),
                request_headers=clean_headers(lines, label),
                repeated_headers=repeated_headers(lines, label),
                request_body=raw or b"",
                status=response.status_code,
                response_headers=clean_headers(response.headers.items()),
                response_body=response.content,
                auth=auth,
                key_label=label,
                key_mode=mode,
            )
        )
        return response

    def write(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(e.to_record()) + "\n" for e in self.exchanges))
        return path

    def close(self) -> None:
        self.client.close()
