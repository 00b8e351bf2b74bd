"""``neuropay postman``: export the project's collection, convert any spec, check drift."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_VIOLATIONS
from ..outputs import write_bytes
from ..spec import load_spec


@click.group("postman")
def postman_group() -> None:
    """Export, convert and diff Postman collections."""


@postman_group.command("export")
@click.option(
    "--spec", type=click.Path(path_type=Path), default=None, help="Spec (default: the bundled one)."
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("postman"), show_default=True)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 when the files in --out are stale."
)
def export_command(spec: Path | None, out: Path, check: bool) -> int:
    """The collection (bearer auth inherited from the collection, a request per operation with
    tests and saved example responses, lifecycle Scenarios with chained ids) and one environment
    per target (reference server, test, live) with an empty secret apiKey."""
    from .export import stale_files, write_export

    loaded = load_spec(spec)
    if check:
        stale = stale_files(loaded, out)
        for name in stale:
            click.echo(f"stale: {out / name} (run `neuropay postman export --out {out}`)")
        return EXIT_VIOLATIONS if stale else EXIT_OK
    for path in write_export(loaded, out):
        click.echo(f"wrote {path}")
    return EXIT_OK


@postman_group.command("convert")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), required=True, help="Collection file to write."
)
@click.option(
    "--tests",
    is_flag=True,
    help="Add a test script per request: the status is 2xx and the body matches the spec's "
    "response schema (formats such as int32, int64, date-time, email, uuid handled).",
)
def convert_command(spec: Path, out: Path, tests: bool) -> int:
    """Convert any OpenAPI 3.0 or 3.1 document to a Postman Collection v2.1: folders per tag,
    auth from securitySchemes/security (per request where an operation differs, noauth for
    `security: []`), a body for every request body (example or schema-valid; JSON, form,
    multipart with file fields), path, query, header and cookie parameters with values, the
    servers (collection variables baseUrl, baseUrl2, ... and one empty variable per credential),
    saved example responses and descriptions."""
    from ..documents import gc_paused
    from .convert import convert

    loaded = load_spec(spec)
    try:
        with gc_paused():  # a large collection is a tree of small dicts: see gc_paused
            collection = convert(loaded, tests=tests)
    except Exception as exc:
        # the validator (the linting package, a tenth of a second to import) only when it fails
        from ..linting.validator import STRUCTURE_ERRORS, structure_error

        if not isinstance(exc, STRUCTURE_ERRORS):
            raise
        raise structure_error(loaded.document, str(spec)) from None
    import orjson  # the C encoder with indentation: json.dumps(indent=2) is pure Python, slow

    options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    write_bytes(out, orjson.dumps(collection, option=options) + b"\n")
    requests = sum(len(folder["item"]) for folder in collection["item"])
    click.echo(f"wrote {out} ({requests} requests)")
    return EXIT_OK


@postman_group.command("diff")
@click.argument("collection", type=click.Path(path_type=Path))
@click.option(
    "--spec", type=click.Path(path_type=Path), default=None, help="Spec (default: the bundled one)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object per drift (kind, where, message) for other tools.",
)
def diff_command(collection: Path, spec: Path | None, output_format: str) -> int:
    """Compare an existing collection with the spec: requests to unknown paths, operations the
    collection lacks, bodies that break the request schema, auth not inherited. Exit 1 on drift."""
    from .diff import diff_collection, load_collection

    drifts = diff_collection(load_spec(spec), load_collection(collection))
    if output_format == "json":
        click.echo(json.dumps([dataclasses.asdict(d) for d in drifts], indent=2))
        return EXIT_VIOLATIONS if drifts else EXIT_OK
    groups: dict[str, list[str]] = {}
    for drift in drifts:
        groups.setdefault(drift.kind, []).append(f"  {drift.where}: {drift.message}")
    for kind, lines in groups.items():
        click.echo(f"{kind} ({len(lines)}):")
        click.echo("\n".join(lines))
    click.echo(f"{collection}: {'no drift' if not drifts else f'{len(drifts)} drift(s)'}")
    return EXIT_VIOLATIONS if drifts else EXIT_OK
