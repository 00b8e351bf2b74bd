"""The spec linter (``neuropay spec lint``)."""

from .rules import RULES, Finding, LintReport, lint_spec

__all__ = ["RULES", "Finding", "LintReport", "lint_spec"]
