"""One Jinja environment factory for every generator: project overrides (the top-level
``generators/`` folder) first, then the packaged templates."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ._resources import checkout_root, templates_path

OVERRIDE_DIR = Path("generators") / "templates"


def override_dirs(extra: Path | None = None) -> list[Path]:
    """Folders searched before the packaged templates: ``extra``, the ``[templates] search``
    folders of ``generators/config.toml``, then ``./generators/templates`` and the checkout's."""
    from .generator_config import load_config

    candidates = [extra, *load_config().template_dirs, Path.cwd() / OVERRIDE_DIR]
    root = checkout_root()
    if root is not None:
        candidates.append(root / OVERRIDE_DIR)
    seen: list[Path] = []
    for c in candidates:
        if c is not None and c.is_dir() and c.resolve() not in seen:
            seen.append(c.resolve())
    return seen


def make_environment(template_dir: Path | None = None) -> Environment:
    """A Jinja environment with StrictUndefined and autoescape for HTML, XML and SVG.

    Templates are addressed as ``docs/page.html.j2``, ``reports/report.html.j2`` and so on; a file
    of the same relative name in an override folder wins.
    """
    loaders = [FileSystemLoader(str(d)) for d in override_dirs(template_dir)]
    loaders.append(FileSystemLoader(str(templates_path())))
    return Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html", "xml", "svg", "html.j2", "xml.j2", "svg.j2"),
            default_for_string=True,
            default=False,
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
