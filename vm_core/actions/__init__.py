"""Improvement actions: what a relationship's parties agreed to do about its results, and whether they did.

An action belongs to a relationship and the cycle that raised it (perhaps through a finding); it
links Value Codes and Things That Matter of that cycle's library, has an owner (a person and one
of the parties), a due date, a status and a % complete, and a full history of every edit. Two
people editing one action never overwrite each other unseen (:mod:`vm_core.actions.write`).

- :mod:`~vm_core.actions.choices`: its relationship and cycle, the links and owners it may have;
- :mod:`~vm_core.actions.fields`: the fields, an edit, what changed (and the % / status rule);
- :mod:`~vm_core.actions.validate`: one clear line for whatever is wrong;
- :mod:`~vm_core.actions.write`: create and update, with the history and the version check;
- :mod:`~vm_core.actions.query`: one action, a filtered list, the history (nothing writes);
- :mod:`~vm_core.actions.export`: table, CSV, JSON and XLSX.

Functions take a SQLAlchemy session; the caller owns the transaction.
"""

from vm_core.actions.choices import ActionChoices, action_choices
from vm_core.actions.errors import ActionConflict, ActionError, ActionNotFound
from vm_core.actions.export import format_actions, history_lines, write_actions
from vm_core.actions.fields import UNSET, ActionEdit, ActionFields
from vm_core.actions.query import (
    ActionChangeView,
    ActionFilter,
    ActionView,
    action_history,
    get_action,
    list_actions,
)
from vm_core.actions.write import create_action, update_action
from vm_core.read.output_formats import FORMATS

__all__ = [
    "FORMATS",
    "UNSET",
    "ActionChangeView",
    "ActionChoices",
    "ActionConflict",
    "ActionEdit",
    "ActionError",
    "ActionFields",
    "ActionFilter",
    "ActionNotFound",
    "ActionView",
    "action_choices",
    "action_history",
    "create_action",
    "format_actions",
    "get_action",
    "history_lines",
    "list_actions",
    "update_action",
    "write_actions",
]
