"""The spec linter (``neuropay spec lint``)."""

from .rules import LEVELS, RULES, SEVERITIES, Finding, LintReport, lint_spec

__all__ = ["LEVELS", "RULES", "SEVERITIES", "Finding", "LintReport", "lint_spec"]
