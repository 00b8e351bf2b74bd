"""One root exception; the CLI maps it to an exit code at its edge."""

from __future__ import annotations

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2


class NeuropayError(Exception):
    """Root of every error this package raises on purpose.

    The message is one line that says what happened, what was expected and how to fix it.
    """

    exit_code: int = EXIT_ERROR


class SpecError(NeuropayError):
    """The spec cannot be read, is not valid OpenAPI or lacks what a tool needs."""


class TargetError(NeuropayError):
    """The target server cannot be reached or refuses the API key."""


class UsageError(NeuropayError):
    """The command line or a configuration file is wrong."""


class SuiteError(NeuropayError):
    """The contract suite itself could not run (not collected, nothing selected, its reports
    not written): the run could not test."""
