"""Developer docs generated from the spec (``neuropay docs``)."""

from .render import render_docs
from .samples import samples_for

__all__ = ["render_docs", "samples_for"]
