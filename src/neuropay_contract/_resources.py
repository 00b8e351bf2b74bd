"""Find files that ship with the package, the same way from a checkout and from a wheel.

In a wheel they live under ``neuropay_contract/_bundled/`` (hatch ``force-include``); in a
checkout (editable install) they are at the repository root, two levels above ``src/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"
_CHECKOUT_ROOT = _PACKAGE_DIR.parent.parent


def _find(relative: str) -> Path:
    for base in (_BUNDLED, _CHECKOUT_ROOT):
        candidate = base / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"{relative} ships with neuropay-contract but was not found under {_BUNDLED} "
        f"or {_CHECKOUT_ROOT}; reinstall the package"
    )


def default_spec_path() -> Path:
    """The API's own spec, ``spec/openapi.yaml``."""
    return _find("spec/openapi.yaml")


def contract_suite_path() -> Path:
    """The pytest contract suite, ``contract_tests/``."""
    return _find("contract_tests")


def templates_path() -> Path:
    """The packaged Jinja templates (always inside the package)."""
    return _PACKAGE_DIR / "templates"


def checkout_root() -> Path | None:
    """The repository root when running from a checkout, else None."""
    return _CHECKOUT_ROOT if (_CHECKOUT_ROOT / "pyproject.toml").exists() else None
