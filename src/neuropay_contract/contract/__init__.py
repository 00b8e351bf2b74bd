"""The contract engine: a recording client, checks that raise typed violations, the lifecycle
driver and the curl reproduction. The pytest suite in ``contract_tests/`` is built on it."""

from .checks import ContractViolation, not_covered
from .client import ContractClient, Recorder, Response, Secrets
from .curl import sequence_to_curl
from .reach import Driver, PaymentMeans, create_body, customer_body, reach

__all__ = [
    "ContractClient",
    "ContractViolation",
    "Driver",
    "PaymentMeans",
    "Recorder",
    "Response",
    "Secrets",
    "create_body",
    "customer_body",
    "not_covered",
    "reach",
    "sequence_to_curl",
]
