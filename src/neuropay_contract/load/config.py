"""What the ``neuropay load`` command hands to its Locust processes: a JSON file without keys
(the keys travel in the processes' environment only)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class LoadConfig:
    target_url: str = ""
    spec_path: str | None = None
    mix: dict[str, int] = field(default_factory=dict)
    parts_dir: str = "reports/load/parts"
    # Seconds the master waits for the workers' parts at the end of a run.
    collect_timeout: float = 60.0

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: str | None) -> LoadConfig:
        if not path:
            return cls()
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(**raw)
