"""``neuropay spec diff``: a lifecycle-aware breaking-change gate for OpenAPI specs."""

from .differ import diff_documents
from .model import Change, DiffReport, Document, OperationRef, Rule, Severity, Side
from .rules import RULES
from .source import load_document, parse_document

__all__ = [
    "RULES",
    "Change",
    "DiffReport",
    "Document",
    "OperationRef",
    "Rule",
    "Severity",
    "Side",
    "diff_documents",
    "load_document",
    "parse_document",
]
