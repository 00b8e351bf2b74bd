"""Developer docs generated from the spec (``neuropay docs``)."""

from .diagram import lifecycle_svg
from .model import DocsModel
from .render import render_docs
from .samples import Samples, samples_for

__all__ = ["DocsModel", "Samples", "lifecycle_svg", "render_docs", "samples_for"]
