"""The generated large document is big, valid OpenAPI 3.0, and the same in YAML and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from openapi_spec_validator import OpenAPIV30SpecValidator

from neuropay_contract.benchmarks.large_spec import build_large_spec, count_operations


def test_large_spec_is_big_and_valid(large_specs: tuple[Path, Path]) -> None:
    document = build_large_spec()
    assert count_operations(document) >= 400
    assert list(OpenAPIV30SpecValidator(document).iter_errors()) == []
    as_yaml, as_json = large_specs
    assert yaml.load(as_yaml.read_text(), Loader=yaml.CSafeLoader) == document
    assert json.loads(as_json.read_text()) == document
    assert build_large_spec() == document  # deterministic
