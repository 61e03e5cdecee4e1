"""``vm init``: a documented relationship configuration and a starter Value Code library."""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


def scaffold(directory: Path, key: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    targets = {
        directory / "relationship.yaml": (TEMPLATES / "relationship.yaml")
        .read_text(encoding="utf-8")
        .replace("__KEY__", key),
        directory / "library.csv": (TEMPLATES / "library.csv").read_text(encoding="utf-8"),
    }
    existing = [p for p in targets if p.exists()]
    if existing:
        raise FileExistsError(f"{existing[0]} already exists; nothing written")
    (directory / "responses").mkdir(exist_ok=True)
    for path, content in targets.items():
        path.write_text(content, encoding="utf-8")
    return list(targets)
