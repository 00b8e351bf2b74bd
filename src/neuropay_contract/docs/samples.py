"""Code samples (curl, Python httpx, JavaScript fetch) for an operation: one function serves the
docs templates and the test that runs every sample, so a sample cannot rot."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from ..errors import SpecError
from ..spec import ApiSpec, Operation

KEY_ENV = "NEUROPAY_API_KEY"
UNSET: Any = object()


@dataclass(frozen=True)
class Auth:
    """How a sample sends the key: ``bearer``, ``basic``, ``header`` or ``query`` (``name``
    says which header or query parameter), or ``none``. The key always comes from the
    environment, never from the page."""

    kind: str = "bearer"
    name: str = ""
    env: str = KEY_ENV  # the environment variable holding the credential


BEARER = Auth("bearer")
NO_AUTH = Auth("none")


@dataclass(frozen=True)
class Samples:
    curl: str
    python: str
    javascript: str
    # Example ids the samples use ("checkout_id" -> "5f1c..."), so a reader or a test can put
    # real ids in their place with :meth:`with_ids`.
    ids: Mapping[str, str] = field(default_factory=dict)

    def with_ids(self, real: Mapping[str, str]) -> Samples:
        """The same samples with each example id replaced by the real one named the same."""
        texts = [self.curl, self.python, self.javascript]
        for name, value in real.items():
            example = self.ids.get(name)
            if example:
                texts = [t.replace(example, value) for t in texts]
        return Samples(texts[0], texts[1], texts[2], {**self.ids, **real})


def body_media(content: Any) -> tuple[str, Mapping[str, Any]]:
    """The media type a sample sends and its object: JSON first, else the first one listed."""
    if not isinstance(content, Mapping) or not content:
        return "", {}
    for mime, media in content.items():
        if "json" in str(mime):
            return str(mime), media if isinstance(media, Mapping) else {}
    mime, media = next(iter(content.items()))
    return str(mime), media if isinstance(media, Mapping) else {}


_ENV_BY_KIND = {"basic": "USERNAME", "bearer": "BEARER_TOKEN", "oauth2": "ACCESS_TOKEN"}


def credential_env(spec: ApiSpec, name: str, scheme: Mapping[str, Any]) -> str:
    """The environment variable a sample reads a scheme's credential from: ours for the
    project's spec (it has x-lifecycle), else named after the scheme's kind (``API_KEY``,
    ``BEARER_TOKEN``, ``ACCESS_TOKEN``, ``USERNAME``) or, when a spec has several schemes of one
    kind, after the scheme itself."""
    if spec.lifecycle is not None:
        return KEY_ENV

    def kind_of(s: Any) -> str:
        s = spec.deref(s) if isinstance(s, Mapping) else {}
        kind = str(s.get("type", "")).lower()
        if kind == "http":
            return "basic" if str(s.get("scheme", "")).lower() == "basic" else "bearer"
        return "oauth2" if kind in ("oauth2", "openidconnect") else kind

    schemes = (spec.document.get("components") or {}).get("securitySchemes") or {}
    kind = kind_of(scheme)
    if sum(1 for s in schemes.values() if kind_of(s) == kind) > 1:
        env = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[^A-Za-z0-9]+", "_", name).upper().strip("_")
        # A shell variable name: letters, digits and _, not starting with a digit.
        return env if re.fullmatch(r"[A-Z_][A-Z0-9_]*", env) else f"API_KEY_{env}".rstrip("_")
    return _ENV_BY_KIND.get(kind, "API_KEY")


def auth_for(spec: ApiSpec, op: Operation) -> Auth:
    """The first security scheme that applies to ``op`` (its own ``security`` or the document's)."""
    requirements = op.raw.get("security", spec.document.get("security"))
    schemes = (spec.document.get("components") or {}).get("securitySchemes") or {}
    if requirements is None:  # no requirement declared: use any scheme the document defines
        requirements = [{name: []} for name in schemes]
    for requirement in requirements or []:
        for name in requirement if isinstance(requirement, Mapping) else []:
            try:
                scheme = spec.deref(schemes.get(name) or {})
            except SpecError:
                continue
            kind = str(scheme.get("type", "")).lower()
            env = credential_env(spec, str(name), scheme)
            if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                return Auth("basic", env=env)
            if kind in ("http", "oauth2", "openidconnect"):
                return Auth("bearer", env=env)
            if kind == "apikey" and scheme.get("in") in ("header", "query"):
                return Auth(str(scheme["in"]), str(scheme.get("name", "X-API-Key")), env)
    return NO_AUTH


def _example(param: Mapping[str, Any]) -> Any:
    raw_schema = param.get("schema")
    schema: Mapping[str, Any] = raw_schema if isinstance(raw_schema, Mapping) else {}
    for source in (param, schema):
        if "example" in source:
            return source["example"]
        examples = source.get("examples")
        if isinstance(examples, Mapping) and examples:
            first = next(iter(examples.values()))
            if isinstance(first, Mapping) and "value" in first:
                return first["value"]
        if isinstance(examples, list) and examples:
            return examples[0]
    if "default" in schema:
        return schema["default"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    return UNSET


def _url(op: Operation, base_url: str, auth: Auth) -> tuple[str, dict[str, str]]:
    """The call's URL (path parameters filled, query parameters with examples) and the ids used."""
    path, ids, query = op.path, {}, []
    for param in op.parameters:
        name, where, value = str(param.get("name")), param.get("in"), _example(param)
        if where == "path":
            text = str(value) if value is not UNSET else "{" + name + "}"
            if value is not UNSET and name.lower().endswith("id"):
                ids[name] = text
            path = path.replace("{" + name + "}", quote(text, safe="{}"))
        elif (
            where == "query"
            and value is not UNSET
            and (param.get("required") or "example" in param)
        ):
            query.append((name, value if not isinstance(value, bool) else str(value).lower()))
    url = base_url.rstrip("/") + path
    if query:
        url += "?" + urlencode(query, doseq=True)
    if auth.kind == "query":
        url += ("&" if "?" in url else "?") + _query_key(auth)
    return url, ids


def _query_key(auth: Auth) -> str:
    """``name=$ENV``: the query parameter carrying the credential, its name URL-encoded."""
    return f"{quote(auth.name, safe='')}=${auth.env}"


def _js_template(text: str) -> str:
    """``text`` inside a JavaScript template literal, where nothing it holds is code."""
    return text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")


def _body_ids(body: Any, ids: dict[str, str]) -> None:
    if isinstance(body, Mapping):
        for key, value in body.items():
            if isinstance(value, str) and str(key).lower().endswith("id") and len(value) >= 6:
                ids.setdefault(str(key), value)
            elif isinstance(value, Mapping | list):
                _body_ids(value, ids)
    elif isinstance(body, list):
        for item in body:
            _body_ids(item, ids)


def samples_for(
    op: Operation,
    base_url: str,
    body: Any = UNSET,
    auth: Auth = BEARER,
    media: tuple[str, Mapping[str, Any]] | None = None,
) -> Samples:
    """Samples calling ``op`` at ``base_url`` with ``body`` (default: its first request example).

    ``media`` is the request's (media type, media object) when the caller has resolved it (a
    ``requestBody`` may be a $ref); JSON is assumed otherwise. The key is read from the
    environment (``$NEUROPAY_API_KEY``), never written out."""
    if media is None:
        media = body_media((op.raw.get("requestBody") or {}).get("content"))
    mime, media_object = media
    if body is UNSET:
        body = op.request_examples[0].value if op.request_examples else media_object.get("example")
    if body is not None and not mime:
        mime = "application/json"
    url, ids = _url(op, base_url, auth)
    _body_ids(body, ids)
    method = op.method.upper()
    form = "x-www-form-urlencoded" in mime and isinstance(body, Mapping)
    is_json = "json" in mime and not isinstance(body, str)
    payload = json.dumps(body, indent=2, ensure_ascii=False) if body is not None else None
    query_key = _query_key(auth)
    # Everything from the spec is single-quoted for the shell; only the credential's variable
    # is expanded (in double quotes, next to the quoted text: one shell word).
    secret = f'"${auth.env}"'
    if auth.kind == "query":
        before, _, _ = url.rpartition(query_key)
        shell_url = shlex.quote(before + query_key.partition("=")[0] + "=") + secret
    else:
        shell_url = shlex.quote(url)
    curl = [f"curl -sS -X {shlex.quote(method)} {shell_url}"]
    if "{" in url:
        curl[0] = curl[0].replace("curl -sS", "curl -sS -g")  # {placeholders} are not URL globs
    curl += {
        "bearer": [f'-H "Authorization: Bearer ${auth.env}"'],  # env: a checked name
        "basic": [f'-u "${auth.env}:"'],
        "header": [f"-H {shlex.quote(auth.name + ': ')}{secret}"],
    }.get(auth.kind, [])
    if payload is not None:
        curl.append(f"-H {shlex.quote('Content-Type: ' + mime)}")
        if form:
            curl += [f"--data-urlencode {shlex.quote(f'{k}={v}')}" for k, v in body.items()]
        else:
            text = payload if is_json else str(body)
            end = heredoc_delimiter(text)
            curl.append(f"--data-binary @- <<'{end}'\n" + text + f"\n{end}")
    curl_text = " \\\n  ".join(curl)

    py_url = url.replace(f"&{query_key}", "").replace(f"?{query_key}", "")
    headers = {
        "bearer": f'{{"Authorization": f"Bearer {{os.environ[\'{auth.env}\']}}"}}',
        "header": f"{{{auth.name!r}: os.environ[{auth.env!r}]}}",
    }.get(auth.kind, "{}")
    if payload is not None and not is_json and not form:
        headers = headers[:-1] + (", " if headers != "{}" else "") + f'"Content-Type": {mime!r}}}'
    call = f"response = httpx.request(\n    {method!r},\n    {py_url!r},\n    headers={headers},\n"
    if auth.kind == "query":
        call += f"    params={{{auth.name!r}: os.environ[{auth.env!r}]}},\n"
    if auth.kind == "basic":
        call += f"    auth=(os.environ[{auth.env!r}], ''),\n"
    if payload is not None:
        keyword = "json" if is_json else "data" if form else "content"
        literal = _python_literal(body) if is_json or form else repr(str(body))
        call += f"    {keyword}={literal},\n"
    call += "    timeout=10,\n)"
    imports = ["import os", ""] if "os.environ" in call else []
    call = call.replace("    headers={},\n", "")
    python = "\n".join(
        [*imports, "import httpx", "", call, "response.raise_for_status()"]
        + (["print(response.json())"] if _answers_json(op) else ["print(response.text)"])
    )

    js_headers = {
        "bearer": [f"Authorization: `Bearer ${{process.env.{auth.env}}}`"],
        "basic": [f'Authorization: `Basic ${{btoa(process.env.{auth.env} + ":")}}`'],
        "header": [f"{json.dumps(auth.name)}: process.env.{auth.env}"],
    }.get(auth.kind, [])
    if payload is not None:
        js_headers.append(f'"Content-Type": {json.dumps(mime)}')
    js_url = (
        "`" + _js_template(url.rpartition(f"${auth.env}")[0]) + f"${{process.env.{auth.env}}}`"
        if auth.kind == "query"
        else json.dumps(url)
    )
    js = [f"const response = await fetch({js_url}, {{", f'  method: "{method}",']
    if js_headers:
        js.append("  headers: { " + ", ".join(js_headers) + " },")
    if payload is not None:
        if is_json:
            js.append("  body: JSON.stringify(" + payload.replace("\n", "\n  ") + "),")
        elif form:
            js.append("  body: new URLSearchParams(" + payload.replace("\n", "\n  ") + "),")
        else:
            js.append(f"  body: {json.dumps(str(body))},")
    js += [
        "});",
        "if (!response.ok) throw new Error(`HTTP ${response.status}`);",
        "console.log(JSON.stringify(await response.json(), null, 2));"
        if _answers_json(op)
        else "console.log(await response.text());",
    ]
    return Samples(curl_text, python, "\n".join(js), ids)


def heredoc_delimiter(text: str, word: str = "BODY") -> str:
    """A heredoc delimiter that no line of ``text`` equals (so the body cannot end it early
    and run its own lines as commands)."""
    lines = set(text.splitlines())
    number = 0
    end = word
    while end in lines:
        number += 1
        end = f"{word}_{number}"
    return end


def _answers_json(op: Operation) -> bool:
    """Whether the operation's success answer is JSON (so the samples print it as JSON)."""
    for status, response in op.responses.items():
        if status.startswith("2"):
            return response.schema is not None or bool(response.examples)
    return False


def _python_literal(value: Any, indent: int = 4) -> str:
    """JSON as a Python literal (true/false/null spelled the Python way)."""
    text = json.dumps(value, indent=4, ensure_ascii=False)
    # Only outside strings: a string value containing ": true" must stay as it is.
    text = re.sub(
        r'("(?:[^"\\]|\\.)*")|\b(true|false|null)\b',
        lambda m: m.group(1) or {"true": "True", "false": "False", "null": "None"}[m.group(2)],
        text,
    )
    return text.replace("\n", "\n" + " " * indent)
