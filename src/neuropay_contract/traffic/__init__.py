"""Contract checks on real traffic: ``neuropay proxy`` (live, between a client and a server) and
``neuropay audit`` (recorded HAR or JSON lines), with one checker for both."""

from .checker import TrafficChecker
from .exchange import Exchange, read_traffic
from .findings import Finding

__all__ = ["Exchange", "Finding", "TrafficChecker", "read_traffic"]
