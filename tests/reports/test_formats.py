"""The report formats table is the one place a format is declared: the writer, `neuropay report`
and the terminal summary follow it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from neuropay_contract.contract.terminal import print_summary
from neuropay_contract.reports import formats, write_reports
from neuropay_contract.reports.formats import FORMATS, ReportFormat
from neuropay_contract.results import RunResults

from .test_reports import results


def test_the_writer_writes_every_format_by_default(tmp_path: Path) -> None:
    written = write_reports(results(), tmp_path)
    assert {name: path.name for name, path in written.items()} == {
        name: f.file_name for name, f in FORMATS.items()
    }
    assert next(iter(written)) == "json"  # the data first, then what renders it


def test_a_new_format_is_one_table_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def render_text(run: RunResults) -> str:
        return f"{run.verdict} sk_test_{'a' * 24}\n"

    monkeypatch.setitem(
        FORMATS, "txt", ReportFormat("txt", "report.txt", "plain text", render_text)
    )
    written = write_reports(results(), tmp_path, formats=["txt"])
    # Written and redacted like every report, and listed by the terminal summary.
    assert written["txt"].read_text() == "violations $NEUROPAY_API_KEY\n"
    assert "report.txt" in formats.file_names()
    console = Console(record=True, width=200)
    print_summary(results(), tmp_path, console)
    assert "report.txt" in console.export_text()


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        write_reports(results(), tmp_path, formats=["pdf"])
    assert not list(tmp_path.iterdir())
