"""Contract tests, reference server and OpenAPI toolkit for the Neuro-Pay Checkout API.

The public surface is :data:`__all__`; names load on first use, so ``neuropay --help`` and the
pytest plugin do not import the server or the generators they do not need."""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("neuropay-contract")
except PackageNotFoundError:  # a source tree on sys.path without an install
    __version__ = "0.0.0+unknown"

# public name -> module that defines it
_EXPORTS = {
    "ApiSpec": "neuropay_contract.spec",
    "load_spec": "neuropay_contract.spec",
    "Lifecycle": "neuropay_contract.lifecycle",
    "Guard": "neuropay_contract.lifecycle",
    "NeuropayError": "neuropay_contract.errors",
    "SpecError": "neuropay_contract.errors",
    "RunResults": "neuropay_contract.results",
    "RunSettings": "neuropay_contract.contract.settings",
    "RULES": "neuropay_contract.contract.rules",
    "create_app": "neuropay_contract.server",
    "start_server": "neuropay_contract.server",
    "write_reports": "neuropay_contract.reports",
}

__all__ = [
    "RULES",
    "ApiSpec",
    "Guard",
    "Lifecycle",
    "NeuropayError",
    "RunResults",
    "RunSettings",
    "SpecError",
    "__version__",
    "create_app",
    "load_spec",
    "start_server",
    "write_reports",
]

if TYPE_CHECKING:
    from .contract.rules import RULES
    from .contract.settings import RunSettings
    from .errors import NeuropayError, SpecError
    from .lifecycle import Guard, Lifecycle
    from .reports import write_reports
    from .results import RunResults
    from .server import create_app, start_server
    from .spec import ApiSpec, load_spec


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'neuropay_contract' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
