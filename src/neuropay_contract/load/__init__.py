"""``neuropay load``: the contract under load. Journeys derived from ``x-lifecycle`` run as
Locust users; every answer goes through the traffic checker of ``neuropay proxy``; at the end each
checkout is read back and compared with its model, and the SLO gates decide the exit code.

Only ``locustfile`` imports Locust, and only Locust's own processes import ``locustfile``."""
