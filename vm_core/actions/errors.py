"""What goes wrong with an action, in one line a user can act on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vm_core.errors import VmError

if TYPE_CHECKING:
    from vm_core.actions.fields import ActionEdit
    from vm_core.actions.query import ActionChangeView


class ActionError(VmError):
    """An action cannot be created, changed or found as asked (unknown code or party, % out of range, …)."""


class ActionNotFound(ActionError):
    """No action has this id."""


class ActionConflict(ActionError):
    """Someone changed the action after the editor opened it: the edit was not saved.

    Nothing is lost: the other edit stays, and ``attempted`` (the refused edit) can be applied
    again to ``current_version`` once the editor has seen what changed (``since``).
    """

    def __init__(
        self,
        action_id: int,
        seen_version: int,
        current_version: int,
        since: Sequence[ActionChangeView],
        attempted: ActionEdit,
    ):
        self.action_id, self.seen_version, self.current_version = action_id, seen_version, current_version
        self.since, self.attempted = list(since), attempted
        shown = "; ".join(
            f"by {c.by} at {c.at:%Y-%m-%d %H:%M:%S} UTC ({', '.join(c.changes)})" for c in self.since[-3:]
        )
        earlier = len(self.since) - 3
        super().__init__(
            f"action {action_id} was changed after you opened version {seen_version}: "
            + (f"{earlier} earlier edit{'s' if earlier > 1 else ''}; " if earlier > 0 else "")
            + f"{shown}; your edit was not saved: reload version {current_version} and apply it again"
        )

    @property
    def overlap(self) -> list[str]:
        """The fields the refused edit sets that were changed since too: applying it again replaces
        those changes (every other change since stays)."""
        changed = {name for change in self.since for name in change.changes}
        return [name for name in self.attempted.given() if name in changed]
