"""The reference server: a stateful, persistent implementation of spec/openapi.yaml."""

from .app import create_app
from .keys import ApiKey, default_keys, key_triplet, same_merchant_key
from .runner import RunningServer, serve_app, start_server

__all__ = [
    "ApiKey",
    "RunningServer",
    "create_app",
    "default_keys",
    "key_triplet",
    "same_merchant_key",
    "serve_app",
    "start_server",
]
