"""Contract tests, reference server and OpenAPI toolkit for the Neuro-Pay Checkout API."""

__version__ = "0.1.0"
