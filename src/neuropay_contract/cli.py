"""The ``neuropay`` command. Subcommands load lazily; errors become exit codes only here."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from . import __version__
from .errors import EXIT_ERROR, NeuropayError

# verb -> "module:attribute" of its click command; imported only when used.
_COMMANDS = {
    "spec": ("neuropay_contract.linting.cli:spec_group", "Lint and inspect the OpenAPI spec."),
    "mock": ("neuropay_contract.server.cli:mock_command", "Run the stateful reference server."),
    "test": ("neuropay_contract.contract.cli:test_command", "Run the contract suite on a target."),
    "report": (
        "neuropay_contract.contract.merge:report_command",
        "Render reports from results JSON.",
    ),
    "docs": ("neuropay_contract.docs.cli:docs_command", "Generate developer docs from the spec."),
    "postman": ("neuropay_contract.postman.cli:postman_group", "Export, convert and diff Postman."),
    "proxy": (
        "neuropay_contract.traffic.cli:proxy_command",
        "Validating reverse proxy: check a client's traffic live.",
    ),
    "load": (
        "neuropay_contract.load.cli:load_command",
        "Load a target with lifecycle journeys on Locust; contract checks and SLO gates.",
    ),
    "audit": (
        "neuropay_contract.traffic.audit:audit_command",
        "Check recorded traffic (HAR, JSON lines) against the spec.",
    ),
}

_debug = False


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target[0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Describe verbs without importing them, so `neuropay --help` stays fast.
        with formatter.section("Commands"):
            formatter.write_dl([(name, _COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neuropay")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """Contract tests, reference server and OpenAPI toolkit for the Neuro-Pay Checkout API.

    Exit codes: 0 success or conformant, 1 findings or contract violations,
    2 usage, configuration or connection error.
    """
    global _debug
    _debug = debug
    _apply_generator_config(click.get_current_context())


def _apply_generator_config(ctx: click.Context) -> None:
    """Option defaults of the generator commands from ``generators/config.toml`` (the commands
    are imported only when the file gives them defaults)."""
    from .generator_config import COMMANDS, default_map, load_config

    config = load_config()
    if not any(config.defaults.values()):
        return
    commands: dict[str, click.Command] = {}
    for section, path in COMMANDS.items():
        if not config.defaults.get(section):
            continue
        command: click.Command | None = cli.get_command(ctx, path[0])
        for name in path[1:]:
            assert isinstance(command, click.Group)
            command = command.get_command(ctx, name)
        assert command is not None
        commands[section] = command
    ctx.default_map = default_map(config, commands)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``neuropay`` console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # Commands return their exit code (an int) or None for success.
        result = cli.main(args=args, prog_name="neuropay", standalone_mode=False)
        if isinstance(result, int) and not isinstance(result, bool):
            sys.exit(result)
        return result
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:  # `neuropay` alone: the help, as asked
        click.echo(exc.format_message())
        sys.exit(0)
    except click.UsageError as exc:
        click.echo(f"neuropay: error: {_usage_line(exc)}", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        click.echo(f"neuropay: error: {_one_line(exc.format_message())}", err=True)
        sys.exit(EXIT_ERROR if exc.exit_code != 0 else 0)
    except click.exceptions.Abort:
        click.echo("neuropay: aborted", err=True)
        sys.exit(130)
    except NeuropayError as exc:
        if debug or _debug:
            raise
        click.echo(f"neuropay: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except RecursionError:  # a backstop: the document readers refuse deep input before this
        if debug or _debug:
            raise
        click.echo("neuropay: error: the input is nested too deeply to process", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("neuropay: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # a backstop: the tools report the files they cannot use themselves
        if debug or _debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"neuropay: error: {where}{exc.strerror or exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # the CLI's edge: never a traceback without --debug
        if debug or _debug:
            raise
        click.echo(
            f"neuropay: error: internal error: {type(exc).__name__}:"
            f" {_one_line(str(exc))} (rerun with --debug)",
            err=True,
        )
        sys.exit(EXIT_ERROR)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _usage_line(exc: click.UsageError) -> str:
    """Click's usage error (normally a usage block, a hint and the error on three lines) as one
    line that still says where help is."""
    command = exc.ctx.command_path if exc.ctx is not None else "neuropay"
    message = _one_line(exc.format_message())
    if message.endswith("."):
        message = message[:-1]
    param = getattr(exc, "param", None)
    envvar = getattr(param, "envvar", None)
    if (
        exc.ctx is not None
        and param is not None
        and param.name is not None
        and isinstance(envvar, str)
        and exc.ctx.get_parameter_source(param.name) is click.core.ParameterSource.ENVIRONMENT
    ):
        message += f" (from ${envvar})"
    return f"{message} (see '{command} --help')"
