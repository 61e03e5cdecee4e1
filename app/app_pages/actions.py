"""Actions: what the parties agreed to do, as a board (by status) or a table — filter, create, edit
every field, assign, close, history, whether each worked, and CSV/XLSX downloads.

An edit carries the version its editor saw. When someone else saved in between, the edit is not
saved: the page says so in one line, lists what changed since and which of those fields the edit
changes too, keeps what the editor typed (in the form and as the refused edit) and offers to apply
it to the new version. ``?action=ID`` in the address opens that action for editing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from app import address, data, editor

STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "on_hold": "On hold",
    "complete": "Complete",
    "cancelled": "Cancelled",
}
#: The form's label of each field, for saying which fields an edit changes.
FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "value_codes": "Value Codes",
    "things": "Things That Matter",
    "finding_key": "Finding",
    "mode": "Mode",
    "owner_person": "Owner (person)",
    "owner_party": "Party",
    "due_on": "Due",
    "status": "Status",
    "percent_complete": "% complete",
    "notes": "Notes",
}
#: An edit refused by a conflict, kept until it is applied again or dropped: {action id: ActionConflict}.
PENDING = "actions_pending"
#: Each action as its editor opened it: {action id: ActionView}. The form shows it and an edit is
#: what the editor changed from it, so a save never undoes, unseen, what someone else saved since.
SEEN = "actions_seen"
#: A message to show once, after the rerun that follows a save.
FLASH = "actions_flash"
#: An overdue row of the table: a translucent red, readable on a light and a dark theme alike.
OVERDUE_ROW = "background-color: rgba(229, 57, 53, 0.22)"
#: Counts the actions this session created, so that the "New action" form starts empty after each.
CREATED = "actions_created"

relationship, cycle = st.session_state["relationship"], st.session_state["cycle"]
name = editor.name_field()
choices = data.action_choices(relationship, cycle)
pending: dict[int, data.ActionConflict] = st.session_state.setdefault(PENDING, {})
seen: dict[int, data.ActionView] = st.session_state.setdefault(SEEN, {})
wanted_id = address.arrived().get("action", [""])[-1]
if wanted_id.isdigit():
    st.session_state["actions_open"] = int(wanted_id)
    st.session_state["actions_statuses"] = []
    st.session_state["actions_overdue"] = False


def _party_label(key: str | None) -> str:
    return choices.parties.get(key or "", key or "")


def _shown(field: str, value: Any) -> str:
    """A field's value as a person reads it."""
    if value in (None, "", ()):
        return "—"
    if isinstance(value, tuple | list):
        return ", ".join(value)
    if isinstance(value, dt.date):
        return f"{value:%d %b %Y}"
    if field == "owner_party":
        return _party_label(value)
    return STATUS_LABELS[value] if field == "status" else str(value)


st.title("Actions")
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH), icon=":material/check:")

# ---------------------------------------------------------------- filters
top = st.columns([3, 2, 2, 2, 2])
statuses = top[0].multiselect(
    "Status", list(data.ACTION_STATUSES), format_func=STATUS_LABELS.__getitem__, key="actions_statuses"
)
owner = top[1].text_input("Owner", key="actions_owner", placeholder="Part of a name")
party = top[2].selectbox(
    "Party",
    list(choices.parties),
    index=None,
    format_func=_party_label,
    key="actions_party",
    placeholder="Any",
)
code = top[3].selectbox(
    "Value Code", list(choices.value_codes), index=None, key="actions_code", placeholder="Any"
)
thing = top[4].selectbox(
    "Thing That Matters", list(choices.things), index=None, key="actions_thing", placeholder="Any"
)
bottom = st.columns([2, 2, 2, 3])
due_from = bottom[0].date_input("Due from", value=None, key="actions_due_from")
due_before = bottom[1].date_input("Due before", value=None, key="actions_due_before")
overdue_only = bottom[2].checkbox("Overdue only", key="actions_overdue")
view = bottom[3].segmented_control("View", ["Board", "Table"], default="Board", key="actions_view")

wanted = data.ActionFilter(
    statuses=tuple(statuses),
    owner=owner or None,
    party=party,
    code=code,
    thing=thing,
    due_from=due_from if isinstance(due_from, dt.date) else None,
    due_before=due_before if isinstance(due_before, dt.date) else None,
    overdue=overdue_only,
)
shown = data.actions(relationship, wanted)
effects = data.action_effects(relationship)


def _card_text(action: data.ActionView) -> str:
    f = action.fields
    due = f"due {f.due_on:%d %b %Y}" if f.due_on else "no due date"
    who = " · ".join(x for x in (f.owner_person, _party_label(f.owner_party)) if x)
    lines = [f"**{f.title}**", f"#{action.id} · {who or 'no owner'}", f"{due} · {f.percent_complete}%"]
    if f.value_codes:
        lines.insert(1, ", ".join(f.value_codes))
    if action.overdue:
        lines.append(":red-background[**Overdue**]")
    return "  \n".join(lines)


# ---------------------------------------------------------------- board / table
if not shown:
    st.info("No action matches these filters." if wanted != data.ActionFilter() else "No action yet.")
elif view == "Table":
    rows = [
        {
            "": "⚠ overdue" if a.overdue else "",
            "id": a.id,
            "title": a.fields.title,
            "owner": a.fields.owner_person,
            "party": _party_label(a.fields.owner_party) or None,
            "status": STATUS_LABELS[a.fields.status],
            "%": a.fields.percent_complete,
            "due": a.fields.due_on,
            "value codes": ", ".join(a.fields.value_codes),
            "things that matter": ", ".join(a.fields.things),
            "mode": a.fields.mode,
            "cycle": a.cycle,
        }
        for a in shown
    ]
    late = [a.overdue for a in shown]
    table = pd.DataFrame(rows).style.apply(
        lambda row: [OVERDUE_ROW if late[row.name] else ""] * len(row), axis=1
    )
    st.dataframe(table, hide_index=True, width="stretch", key="actions_table")
else:
    columns = st.columns(len(data.ACTION_STATUSES))
    for column, status in zip(columns, data.ACTION_STATUSES, strict=True):
        mine = [a for a in shown if a.fields.status == status]
        column.markdown(f"**{STATUS_LABELS[status]}** ({len(mine)})")
        for action in mine:
            column.container(border=True, key=f"action-card-{action.id}").markdown(_card_text(action))

downloads = st.columns([1, 1, 4])
downloads[0].download_button(
    "CSV", data.actions_csv(shown), file_name="actions.csv", mime="text/csv", icon=":material/download:"
)
downloads[1].download_button(
    "XLSX",
    data.xlsx_bytes(shown),
    file_name="actions.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:",
)

# ---------------------------------------------------------------- create
with st.expander("New action", icon=":material/add_task:"):
    new = f"new-{st.session_state.get(CREATED, 0)}"  # a new key after each action created: an empty form
    with st.form("actions_create"):
        st.caption(
            f"Raised by cycle {cycle} (the cycle chosen in the sidebar); links are those of its library."
        )
        title = st.text_input("Title", key=f"{new}-title")
        description = st.text_area("Description", key=f"{new}-description", height=80)
        c1, c2 = st.columns(2)
        codes = c1.multiselect("Value Codes", list(choices.value_codes), key=f"{new}-codes")
        things = c2.multiselect("Things That Matter", list(choices.things), key=f"{new}-things")
        new_owner = c1.text_input("Owner (person)", key=f"{new}-owner")
        new_party = c2.selectbox(
            "Party", list(choices.parties), index=None, format_func=_party_label, key=f"{new}-party"
        )
        new_due = c1.date_input("Due", value=None, key=f"{new}-due")
        mode = c2.selectbox(
            "Mode",
            list(choices.modes),
            index=list(choices.modes).index(choices.cycle_mode),
            format_func=str.capitalize,
            key=f"{new}-mode",
        )
        new_notes = st.text_area("Notes", key=f"{new}-notes", height=68)
        create = st.form_submit_button("Create", icon=":material/add:")
    if create and editor.require_name(name):
        try:
            made = data.create_action(
                relationship,
                cycle,
                data.ActionEdit(
                    title=title,
                    description=description,
                    value_codes=tuple(codes),
                    things=tuple(things),
                    mode=mode,
                    owner_person=new_owner or None,
                    owner_party=new_party,
                    due_on=new_due if isinstance(new_due, dt.date) else None,
                    notes=new_notes,
                ),
                by=name,
            )
        except data.ActionError as exc:
            st.error(str(exc), icon=":material/error:")  # what was typed stays in the form
        else:
            st.session_state[CREATED] = st.session_state.get(CREATED, 0) + 1
            st.session_state["actions_open"] = made.id
            st.session_state[FLASH] = f"Action {made.id} created."
            st.rerun()  # the board and the table show it

# ---------------------------------------------------------------- edit
every = {a.id: a for a in data.actions(relationship)}
st.subheader("Edit an action")
if st.session_state.get("actions_open") not in every:
    st.session_state.pop("actions_open", None)
chosen = st.selectbox(
    "Action",
    list(every),
    index=None,
    format_func=lambda i: f"#{i} {every[i].fields.title}",
    key="actions_open",
    placeholder="Choose an action to edit",
)


def _apply(action_id: int, version: int, edit: data.ActionEdit) -> None:
    """Save the edit over ``version``; on a conflict keep it in PENDING and say so."""
    try:
        saved = data.update_action(action_id, version, edit, by=name)
    except data.ActionConflict as conflict:
        pending[action_id] = conflict
        return
    except data.ActionError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    pending.pop(action_id, None)
    seen[action_id] = saved
    st.session_state[FLASH] = f"Saved: action {action_id} is at version {saved.version}."
    st.rerun()


def _options(offered: tuple[str, ...] | list[str], linked: tuple[str, ...]) -> list[str]:
    """What the form offers: the library's, then any linked one the library no longer has."""
    return [*offered, *(x for x in linked if x not in offered)]


def _edit_form(action: data.ActionView) -> None:
    opened = seen.setdefault(action.id, action)
    version, f = opened.version, opened.fields
    offered = data.action_choices(relationship, action.cycle)
    key = f"edit-{action.id}-{version}"
    with st.form(key):
        finding = f" from finding `{f.finding_key}`" if f.finding_key else ""
        st.caption(f"Raised by cycle {action.cycle}{finding}; links are those of that cycle's library.")
        c1, c2 = st.columns(2)
        values: dict[str, Any] = {}
        values["title"] = c1.text_input("Title", value=f.title, key=f"{key}-title")
        values["status"] = c2.selectbox(
            "Status",
            list(data.ACTION_STATUSES),
            index=data.ACTION_STATUSES.index(f.status),
            format_func=STATUS_LABELS.__getitem__,
            key=f"{key}-status",
        )
        values["description"] = st.text_area(
            "Description", value=f.description, key=f"{key}-description", height=80
        )
        c3, c4 = st.columns(2)
        person = c3.text_input("Owner (person)", value=f.owner_person or "", key=f"{key}-owner")
        values["owner_person"] = person or None
        # "" (no party) is an option, and removing a due date a box: once set, Streamlit cannot clear either
        party_keys = ["", *_options(list(offered.parties), (f.owner_party,) if f.owner_party else ())]
        owner_party = c4.selectbox(
            "Party",
            party_keys,
            index=party_keys.index(f.owner_party or ""),
            format_func=lambda k: _party_label(k) or "No party",
            key=f"{key}-party",
        )
        values["owner_party"] = owner_party or None
        values["percent_complete"] = c3.slider("% complete", 0, 100, f.percent_complete, key=f"{key}-percent")
        due = c4.date_input("Due", value=f.due_on, key=f"{key}-due")
        undated = f.due_on is not None and c4.checkbox("Remove the due date", key=f"{key}-undated")
        values["due_on"] = due if isinstance(due, dt.date) and not undated else None
        values["mode"] = c3.selectbox(
            "Mode",
            list(offered.modes),
            index=list(offered.modes).index(f.mode),
            format_func=str.capitalize,
            key=f"{key}-mode",
        )
        values["value_codes"] = tuple(
            st.multiselect(
                "Value Codes",
                _options(list(offered.value_codes), f.value_codes),
                default=list(f.value_codes),
                key=f"{key}-codes",
            )
        )
        values["things"] = tuple(
            st.multiselect(
                "Things That Matter",
                _options(list(offered.things), f.things),
                default=list(f.things),
                key=f"{key}-things",
            )
        )
        values["notes"] = st.text_area("Notes", value=f.notes, key=f"{key}-notes")
        submitted = st.form_submit_button(f"Save (over version {version})", icon=":material/save:")
    if not submitted or not editor.require_name(name):
        return
    changed = {field: value for field, value in values.items() if value != getattr(f, field)}
    _apply(action.id, version, data.ActionEdit(**changed))  # only what this editor changed


def _conflict_notice(action_id: int, conflict: data.ActionConflict) -> None:
    """Say who changed what since, which of those fields the kept edit changes too, and what to do."""
    st.error(str(conflict), icon=":material/sync_problem:")
    st.markdown("**Changed since you opened it:**")
    st.code("\n".join(data.history_lines(conflict.since)), language=None)
    attempted = conflict.attempted.given()
    st.markdown(
        "**Your edit (kept, also in the form above):** "
        + "; ".join(f"{FIELD_LABELS[k]}: {_shown(k, v)}" for k, v in attempted.items())
    )
    both = [FIELD_LABELS[k] for k in conflict.overlap]
    if both:
        st.warning(
            f"Both edits change {', '.join(both)}: applying yours replaces what was saved there.",
            icon=":material/warning:",
        )
    else:
        st.info("Your edit changes none of those fields: applying it keeps every change saved since.")
    again, drop = st.columns(2)
    if again.button(f"Apply my edit to version {conflict.current_version}", key="actions_apply_again"):
        _apply(action_id, conflict.current_version, conflict.attempted)
    if drop.button("Drop my edit and reload", key="actions_drop"):
        pending.pop(action_id, None)
        seen.pop(action_id, None)
        st.rerun()


if chosen is not None:
    action = every[chosen]
    _edit_form(action)
    conflict = pending.get(chosen)
    opened = seen[chosen]
    if conflict is not None:
        _conflict_notice(chosen, conflict)
    elif action.version > opened.version:
        st.info(
            f"{action.updated_by} saved version {action.version} after you opened version {opened.version}: "
            "a save checks your edit against it.",
            icon=":material/update:",
        )
        if st.button(f"Reload version {action.version}", key="actions_reload"):
            seen.pop(chosen, None)
            st.rerun()
    effect = effects.get(chosen)
    if effect is not None and effect.measured_at is not None:
        st.markdown(f"**Did it work?** {effect.verdict.capitalize()} — {effect.explanation}")
    with st.expander("History", icon=":material/history:"):
        st.code("\n".join(data.history_lines(data.action_history(chosen))), language=None)

address.publish({"action": [str(chosen)] if chosen is not None else []})
