"""A shell script that reproduces a whole failing sequence with curl."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from typing import Any

from ..results import Step
from ..untrusted import has_invisible

_ID_FIELDS = ("checkout_id", "customer_id", "card_id")


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
        sent = text
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
        outcome = f"answered {step.status}" if step.status is not None else "no answer"
        lines.append(f"# step {index}: {step.operation or step.method} ({outcome})")
        if sent is not None and not _heredoc_safe(sent):
            # Control characters (fuzzed bodies) cannot travel in a heredoc, and $, ` or \ would
            # need a quoted one that cannot expand the ids: printf rebuilds the exact bytes from
            # octal escapes, and the ids are spliced in outside the single quotes.
            command.append("--data-binary @-")
            data = _printf_escape(sent)
            for literal, var in variables.items():
                data = data.replace(literal, f"'\"${{{var}}}\"'")
            lines.append(f"{prefix}printf '{data}' | " + " \\\n  ".join(command))
            if prefix:
                lines.append(")")
        elif text is not None:
            quote = "JSON" if "${" in text else "'JSON'"
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


# What a heredoc that expands the id variables would mangle: $ ` \ (shell expansion) and the
# terminator on a line of its own; control and bidi characters go through printf's octal escapes
# too, so the script never shows them raw (in a report, a terminal or an editor).
_NOT_FOR_HEREDOC = re.compile(r"[$`\\]|^JSON$", re.MULTILINE)


def _heredoc_safe(text: str) -> bool:
    return _NOT_FOR_HEREDOC.search(text) is None and not has_invisible(text)


def _printf_escape(text: str) -> str:
    """``text`` as a single-quoted printf format that prints its UTF-8 bytes exactly."""
    out = []
    for byte in text.encode("utf-8", "surrogatepass"):
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif 0x20 <= byte < 0x7F and char not in "'\\":
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


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
