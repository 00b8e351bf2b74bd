"""A shell script that reproduces a whole failing sequence with curl."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from typing import Any

from ..results import Step

_ID_FIELDS = ("checkout_id", "customer_id", "card_id")
_SAFE_HEREDOC = re.compile(r"^[^`\\]*$")


def sequence_to_curl(steps: Sequence[Step]) -> str:
    """One curl per step. Ids that earlier answers created become shell variables, so the script
    makes fresh objects when re-run; keys stay ``$NEUROPAY_API_KEY`` (and friends)."""
    lines = [
        "#!/bin/sh",
        "# Reproduces the failing sequence. Set NEUROPAY_API_KEY (and NEUROPAY_SECOND_API_KEY /",
        "# NEUROPAY_LIVE_API_KEY if used below) first.",
        "set -e",
    ]
    variables: dict[str, str] = {}  # literal id -> shell variable
    for index, step in enumerate(steps, start=1):
        body = step.request_body
        text = (
            json.dumps(body, ensure_ascii=False)
            if body is not None and not isinstance(body, str)
            else body
        )
        plain = text is None or "$" not in text  # only then may the heredoc expand variables
        for literal, var in variables.items():
            if text:
                text = text.replace(literal, f"${{{var}}}")
        command = [f"curl -sS -X {step.method} {shlex.quote(step.url)}"]
        for name, value in step.request_headers.items():
            if name.lower() == "authorization":
                command.append(f'-H "{name}: {value}"')
            else:
                command.append(f"-H {shlex.quote(f'{name}: {value}')}")
        created = _new_ids(step.response_body, variables)
        if created:
            capture_var = f"R{index}"
            prefix = f"{capture_var}=$("
        else:
            capture_var, prefix = "", ""
        lines.append(f"# step {index}: {step.operation or step.method} (answered {step.status})")
        if text is not None:
            quote = "JSON" if plain and "${" in text and _SAFE_HEREDOC.match(text) else "'JSON'"
            command.append(f"--data-binary @- <<{quote}")
            lines.append(prefix + " \\\n  ".join(command))
            lines.extend([text, "JSON"])
            if prefix:
                lines.append(")")
        else:
            lines.append(prefix + " \\\n  ".join(command) + (")" if prefix else ""))
        if capture_var:
            lines.append(f'echo "${capture_var}"')
            for field, literal in created:
                var = f"{field.upper()}_{index}"
                variables[literal] = var
                lines.append(
                    f"{var}=$(printf '%s' \"${capture_var}\" | python3 -c "
                    f"'import json,sys; print(json.load(sys.stdin)[\"{field}\"])')"
                )
    return "\n".join(lines) + "\n"


def _created_ids(body: Any) -> list[tuple[str, str]]:
    if not isinstance(body, dict):
        return []
    return [
        (f, str(body[f]))
        for f in _ID_FIELDS[:2]
        if isinstance(body.get(f), str) and len(str(body[f])) >= 8
    ]


def _new_ids(body: Any, known: dict[str, str]) -> list[tuple[str, str]]:
    return [(f, v) for f, v in _created_ids(body) if v not in known]
