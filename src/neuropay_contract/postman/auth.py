"""OpenAPI security (``securitySchemes`` + ``security``) as Postman auth.

Every scheme becomes the Postman auth type that sends the same credentials (bearer, basic, apikey
in a header or the query, a ``Cookie`` header for cookie keys, oauth2 placeholders for oauth2 and
openIdConnect), reading them from variables named after the scheme's kind (``{{bearerToken}}``,
``{{apiKey}}``, ``{{username}}``/``{{password}}``, ``{{accessToken}}``), or after the scheme when
a document has several of one kind. A requirement naming more schemes than Postman's single auth
can carry sends the others as headers or query parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..spec import ApiSpec

NOAUTH: dict[str, Any] = {"type": "noauth"}


def _kv(key: str, value: str) -> dict[str, str]:
    return {"key": key, "value": value, "type": "string"}


def _camel(name: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    if not words:
        return "credential"
    return words[0][0].lower() + words[0][1:] + "".join(w[:1].upper() + w[1:] for w in words[1:])


@dataclass
class AuthPlan:
    """What a request sends for its security: Postman auth plus extra headers/query entries."""

    auth: dict[str, Any] | None
    headers: list[dict[str, Any]] = field(default_factory=list)
    query: list[dict[str, Any]] = field(default_factory=list)


class SecurityMapper:
    """Maps the security requirements of one document to Postman auth."""

    def __init__(self, spec: ApiSpec, token_variable: str | None = None) -> None:
        self.spec = spec
        components = spec.document.get("components") or {}
        raw = components.get("securitySchemes") or {}
        self.schemes: dict[str, Mapping[str, Any]] = {
            str(k): v
            for k, v in ((k, spec.deref(v)) for k, v in raw.items())
            if isinstance(v, Mapping)
        }
        self.token_variable = token_variable  # one variable for every token (the project's apiKey)
        self.variables: dict[str, str] = {}  # variable name -> description, in first-use order

    def _kind(self, scheme: Mapping[str, Any]) -> str:
        kind = str(scheme.get("type", ""))
        if kind == "http":
            return "basic" if str(scheme.get("scheme", "")).lower() == "basic" else "bearer"
        return "oauth2" if kind in ("oauth2", "openIdConnect") else kind

    def variable(self, name: str, default: str) -> str:
        """The variable holding scheme ``name``'s credential."""
        if self.token_variable is not None:
            var = self.token_variable
        else:
            scheme = self.schemes.get(name, {})
            same_kind = [n for n, s in self.schemes.items() if self._kind(s) == self._kind(scheme)]
            var = default if len(same_kind) <= 1 else _camel(name)
        self.variables.setdefault(var, f"credential for the {name} security scheme")
        return f"{{{{{var}}}}}"

    def _auth(self, name: str, scopes: Sequence[Any]) -> dict[str, Any] | None:
        scheme = self.schemes.get(name)
        if scheme is None:
            return None
        kind = str(scheme.get("type", ""))
        http = str(scheme.get("scheme", "")).lower()
        if kind == "http" and http == "basic":
            if self.token_variable is not None:
                user, password = self.variable(name, "username"), ""
            else:
                user = self.variable(name, "username")
                self.variables.setdefault("password", f"password for the {name} security scheme")
                password = "{{password}}"
            return {"type": "basic", "basic": [_kv("username", user), _kv("password", password)]}
        if kind == "http":  # bearer and any other token scheme
            return {"type": "bearer", "bearer": [_kv("token", self.variable(name, "bearerToken"))]}
        if kind == "apiKey":
            where = str(scheme.get("in", "header"))
            key, value = str(scheme.get("name", "X-API-Key")), self.variable(name, "apiKey")
            if where == "cookie":
                key, value, where = "Cookie", f"{key}={value}", "header"
            return {
                "type": "apikey",
                "apikey": [_kv("key", key), _kv("value", value), _kv("in", where)],
            }
        if kind in ("oauth2", "openIdConnect"):
            entries = [
                _kv("accessToken", self.variable(name, "accessToken")),
                _kv("addTokenTo", "header"),
                _kv("tokenType", "Bearer"),
            ]
            flows = scheme.get("flows") or {}
            grants = {
                "authorizationCode": "authorization_code",
                "clientCredentials": "client_credentials",
                "implicit": "implicit",
                "password": "password_credentials",
            }
            for flow_name, flow in flows.items() if isinstance(flows, Mapping) else []:
                if flow_name in grants and isinstance(flow, Mapping):
                    entries.append(_kv("grant_type", grants[flow_name]))
                    if flow.get("authorizationUrl"):
                        entries.append(_kv("authUrl", str(flow["authorizationUrl"])))
                    if flow.get("tokenUrl"):
                        entries.append(_kv("accessTokenUrl", str(flow["tokenUrl"])))
                    break
            if scheme.get("openIdConnectUrl"):
                entries.append(_kv("authUrl", str(scheme["openIdConnectUrl"])))
            if scopes:
                entries.append(_kv("scope", " ".join(str(s) for s in scopes)))
            return {"type": "oauth2", "oauth2": entries}
        return None

    def _extra(self, name: str, plan: AuthPlan) -> None:
        """A further scheme of the same requirement, sent beside the Postman auth."""
        auth = self._auth(name, ())
        if auth is None or auth["type"] != "apikey":
            return
        entries = {e["key"]: e["value"] for e in auth["apikey"]}
        target = plan.query if entries["in"] == "query" else plan.headers
        target.append({"key": entries["key"], "value": entries["value"]})

    def plan(self, requirements: Any) -> AuthPlan:
        """Postman auth for a ``security`` list: the first alternative Postman can express;
        ``noauth`` for ``[]`` or an anonymous ``{}`` alternative that comes first."""
        if not isinstance(requirements, list):
            return AuthPlan(None)
        if not requirements:
            return AuthPlan(dict(NOAUTH))
        for requirement in requirements:
            if not isinstance(requirement, Mapping):
                continue
            if not requirement:
                return AuthPlan(dict(NOAUTH))
            names = list(requirement)
            for index, name in enumerate(names):
                auth = self._auth(str(name), requirement[name] or ())
                if auth is not None:
                    plan = AuthPlan(auth)
                    for other in names[:index] + names[index + 1 :]:
                        self._extra(str(other), plan)
                    return plan
        return AuthPlan(None)

    def global_plan(self) -> AuthPlan:
        return self.plan(self.spec.document.get("security"))

    def operation_plan(self, raw: Mapping[str, Any]) -> AuthPlan | None:
        """The operation's own plan, or None when it inherits the document's security."""
        if "security" not in raw:
            return None
        return self.plan(raw.get("security"))
