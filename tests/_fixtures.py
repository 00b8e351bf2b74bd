"""The public real-world OpenAPI documents shipped under ``tests/fixtures/realspecs`` (see its
README for sources and licenses)."""

from __future__ import annotations

from pathlib import Path

REALSPECS_DIR = Path(__file__).resolve().parent / "fixtures" / "realspecs"
REALSPECS = sorted(p for p in REALSPECS_DIR.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
PETSTORES = [p for p in REALSPECS if "petstore" in p.name]
