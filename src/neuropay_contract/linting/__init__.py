"""The spec linter (``neuropay spec lint``)."""

from . import generic  # noqa: F401  (registers the generic rules)
from .rules import LEVELS, RULES, SEVERITIES, Finding, LintReport, lint_spec

__all__ = ["LEVELS", "RULES", "SEVERITIES", "Finding", "LintReport", "lint_spec"]
