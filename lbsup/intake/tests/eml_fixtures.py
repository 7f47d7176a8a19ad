"""Access to the fixture mails under fixtures/eml (the 3 MB one is stored gzipped)."""

import gzip
from pathlib import Path

EML_DIR = Path(__file__).parent / "fixtures" / "eml"


def load_eml(name: str) -> bytes:
    path = EML_DIR / name
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes())
    return path.read_bytes()


def all_fixture_names() -> list[str]:
    return sorted(path.name for path in EML_DIR.iterdir() if path.name.endswith((".eml", ".eml.gz")))
