"""The house shows the data's direction: what each part may import (docs/architecture.md, "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO


def _imports(folder: Path) -> dict[str, set[str]]:
    """Module file (relative) -> the top-level-qualified names it imports."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        found[str(path.relative_to(REPO))] = names
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("vm_core", ("flows", "app", "vm_cli")),  # the core never reaches out to its edges
        ("connectors", ("flows", "app", "vm_cli", "vm_core.run", "vm_core.read", "vm_core.scoring")),
        ("app", ("flows", "vm_cli", "vm_core.run", "vm_core.ingest", "vm_core.lake", "connectors")),
        ("vm_core/read", ("vm_core.run", "vm_core.ingest.modelling")),  # the read side only reads
        ("vm_core/scoring", ("vm_core.run", "vm_core.read", "vm_core.ingest")),
        (
            "vm_core/store",
            ("vm_core.run", "vm_core.read", "vm_core.scoring", "vm_core.lake", "vm_core.actions"),
        ),
        ("vm_core/actions", ("vm_core.run", "vm_core.ingest", "vm_core.lake")),  # actions live in the store
    ],
)
def test_nothing_imports_against_the_data_flow(folder: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(
        f"{module} imports {name}"
        for module, names in _imports(REPO / folder).items()
        for name in names
        if any(name == f or name.startswith(f"{f}.") for f in forbidden)
    )
    assert not wrong, "\n".join(wrong)


#: What the app may import from vm_core: the read side, and vm_core.actions, the one place it writes.
APP_MAY_IMPORT = ("vm_core.read", "vm_core.actions", "vm_core.settings", "vm_core.store.models")


def test_the_app_reaches_vm_core_only_through_the_read_side_and_actions() -> None:
    wrong = sorted(
        f"{module} imports {name}"
        for module, names in _imports(REPO / "app").items()
        for name in names
        if (name == "vm_core" or name.startswith("vm_core."))
        and not any(name == a or name.startswith(f"{a}.") for a in APP_MAY_IMPORT)
    )
    assert not wrong, "\n".join(wrong)
