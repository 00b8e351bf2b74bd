"""Reports rendered from a run's results: JSON, JUnit XML, HTML and Markdown."""

from .writer import write_reports

__all__ = ["write_reports"]
