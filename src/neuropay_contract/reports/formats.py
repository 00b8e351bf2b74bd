"""The report formats: one table of format -> file name, renderer and description.

The writer, ``neuropay report``, ``neuropay test``'s help and the terminal summary read it, so a
new format is one :class:`ReportFormat` here, its renderer and its template."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..results import RunResults


def _json(results: RunResults) -> str:
    return json.dumps(results.to_dict(), indent=2, default=str) + "\n"


def _html(results: RunResults) -> str:
    from .render import render_html  # Jinja loads only when a page is rendered

    return render_html(results)


def _markdown(results: RunResults) -> str:
    from .render import render_markdown

    return render_markdown(results)


def _junit(results: RunResults) -> str:
    from .render import render_junit

    return render_junit(results)


@dataclass(frozen=True)
class ReportFormat:
    """One report format: its name (``neuropay report --<name>``), default file and renderer."""

    name: str
    file_name: str
    description: str
    render: Callable[[RunResults], str]
    # Rendered from a results file by `neuropay report` (the results file itself is not).
    from_results: bool = True


# In the order the terminal summary lists the files.
FORMATS: dict[str, ReportFormat] = {
    f.name: f
    for f in (
        ReportFormat("html", "report.html", "the HTML report", _html),
        ReportFormat("md", "report.md", "the Markdown summary", _markdown),
        ReportFormat("junit", "junit.xml", "JUnit XML", _junit),
        ReportFormat("json", "results.json", "the results file", _json, from_results=False),
    )
}
# The results file first: if a rendering fails, the data it renders is already written.
DEFAULT_FORMATS = tuple(sorted(FORMATS, key=lambda name: FORMATS[name].from_results))


def file_names() -> list[str]:
    """The default file of every format, in the summary's order."""
    return [f.file_name for f in FORMATS.values()]
