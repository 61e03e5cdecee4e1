"""Actions: what the parties agreed to do, as a board (by status) or a table — filter, create, edit,
history, whether each worked, and CSV/XLSX downloads.

An edit carries the version its editor saw. When someone else saved in between, the edit is not
saved: the page says so in one line, lists what changed since, keeps the edit and offers to apply
it to the new version. ``?action=ID`` in the address opens that action for editing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from app import address, data, editor

STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "on_hold": "On hold",
    "complete": "Complete",
    "cancelled": "Cancelled",
}
#: An edit refused by a conflict, kept until it is applied again or dropped: {action id: ActionConflict}.
PENDING = "actions_pending"
#: Each action as its editor opened it: {action id: ActionView}. The form shows it and an edit is
#: what the editor changed from it, so a save never undoes, unseen, what someone else saved since.
SEEN = "actions_seen"
#: A message to show once, after the rerun that follows a save.
FLASH = "actions_flash"

relationship, cycle = st.session_state["relationship"], st.session_state["cycle"]
name = editor.name_field()
heatmap = data.heatmap(relationship, cycle)
parties = {c.party: c.label for c in heatmap.columns if c.group_kind == "party" and c.party}
value_codes = [row.identifier for row in heatmap.rows]
pending: dict[int, data.ActionConflict] = st.session_state.setdefault(PENDING, {})
seen: dict[int, data.ActionView] = st.session_state.setdefault(SEEN, {})
wanted_id = address.arrived().get("action", [""])[-1]
if wanted_id.isdigit():
    st.session_state["actions_open"] = int(wanted_id)
    st.session_state["actions_statuses"] = []
    st.session_state["actions_overdue"] = False

st.title("Actions")
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH), icon=":material/check:")

# ---------------------------------------------------------------- filters
top = st.columns([3, 2, 2, 2])
statuses = top[0].multiselect(
    "Status", list(data.ACTION_STATUSES), format_func=STATUS_LABELS.__getitem__, key="actions_statuses"
)
owner = top[1].text_input("Owner", key="actions_owner", placeholder="Part of a name")
party = top[2].selectbox(
    "Party",
    list(parties),
    index=None,
    format_func=parties.__getitem__,
    key="actions_party",
    placeholder="Any",
)
code = top[3].selectbox("Value Code", value_codes, index=None, key="actions_code", placeholder="Any")
bottom = st.columns([2, 2, 3])
due_before = bottom[0].date_input("Due before", value=None, key="actions_due_before")
overdue_only = bottom[1].checkbox("Overdue only", key="actions_overdue")
view = bottom[2].segmented_control("View", ["Board", "Table"], default="Board", key="actions_view")

wanted = data.ActionFilter(
    statuses=tuple(statuses),
    owner=owner or None,
    party=party,
    code=code,
    due_before=due_before if isinstance(due_before, dt.date) else None,
    overdue=overdue_only,
)
shown = data.actions(relationship, wanted)
effects = data.action_effects(relationship)


def _card_text(action: data.ActionView) -> str:
    f = action.fields
    due = f"due {f.due_on:%d %b %Y}" if f.due_on else "no due date"
    who = " · ".join(x for x in (f.owner_person, parties.get(f.owner_party or "", f.owner_party)) if x)
    lines = [f"**{f.title}**", f"#{action.id} · {who or 'no owner'}", f"{due} · {f.percent_complete}%"]
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
            "party": parties.get(a.fields.owner_party or "", a.fields.owner_party),
            "status": STATUS_LABELS[a.fields.status],
            "%": a.fields.percent_complete,
            "due": a.fields.due_on,
            "value codes": ", ".join(a.fields.value_codes),
            "cycle": a.cycle,
        }
        for a in shown
    ]
    st.dataframe(rows, hide_index=True, width="stretch", key="actions_table")
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
    with st.form("actions_create"):
        title = st.text_input("Title", key="new_title")
        codes = st.multiselect("Value Codes", value_codes, key="new_codes")
        new_owner = st.text_input("Owner (person)", key="new_owner")
        new_party = st.selectbox(
            "Party", list(parties), index=None, format_func=parties.__getitem__, key="new_party"
        )
        new_due = st.date_input("Due", value=None, key="new_due")
        create = st.form_submit_button("Create", icon=":material/add:")
    if create and editor.require_name(name):
        try:
            made = data.create_action(
                relationship,
                cycle,
                data.ActionEdit(
                    title=title,
                    value_codes=tuple(codes),
                    owner_person=new_owner or None,
                    owner_party=new_party,
                    due_on=new_due if isinstance(new_due, dt.date) else None,
                ),
                by=name,
            )
            st.session_state["actions_open"] = made.id
            st.success(f"Action {made.id} created.", icon=":material/check:")
        except data.ActionError as exc:
            st.error(str(exc), icon=":material/error:")

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


def _edit_form(action: data.ActionView) -> None:
    opened = seen.setdefault(action.id, action)
    version, f = opened.version, opened.fields
    key = f"edit-{action.id}-{version}"
    with st.form(key):
        c1, c2 = st.columns(2)
        title = c1.text_input("Title", value=f.title, key=f"{key}-title")
        status = c2.selectbox(
            "Status",
            list(data.ACTION_STATUSES),
            index=data.ACTION_STATUSES.index(f.status),
            format_func=STATUS_LABELS.__getitem__,
            key=f"{key}-status",
        )
        person = c1.text_input("Owner (person)", value=f.owner_person or "", key=f"{key}-owner")
        party_keys = list(parties)
        owner_party = c2.selectbox(
            "Party",
            party_keys,
            index=party_keys.index(f.owner_party) if f.owner_party in party_keys else None,
            format_func=parties.__getitem__,
            key=f"{key}-party",
        )
        percent = c1.slider("% complete", 0, 100, f.percent_complete, key=f"{key}-percent")
        due = c2.date_input("Due", value=f.due_on, key=f"{key}-due")
        links = st.multiselect(
            "Value Codes",
            sorted(set(value_codes) | set(f.value_codes)),
            default=list(f.value_codes),
            key=f"{key}-codes",
        )
        notes = st.text_area("Notes", value=f.notes, key=f"{key}-notes")
        submitted = st.form_submit_button(f"Save (over version {version})", icon=":material/save:")
    if not submitted or not editor.require_name(name):
        return
    changed: dict[str, Any] = {
        "title": title,
        "status": status,
        "owner_person": person or None,
        "owner_party": owner_party,
        "percent_complete": percent,
        "due_on": due if isinstance(due, dt.date) else None,
        "value_codes": tuple(links),
        "notes": notes,
    }
    before = {
        "title": f.title,
        "status": f.status,
        "owner_person": f.owner_person,
        "owner_party": f.owner_party,
        "percent_complete": f.percent_complete,
        "due_on": f.due_on,
        "value_codes": tuple(f.value_codes),
        "notes": f.notes,
    }
    edit = data.ActionEdit(
        **{k: v for k, v in changed.items() if v != before[k]}
    )  # only what this editor changed
    _apply(action.id, version, edit)


if chosen is not None:
    action = every[chosen]
    _edit_form(action)
    conflict = pending.get(chosen)
    if conflict is not None:
        st.error(str(conflict), icon=":material/sync_problem:")
        st.markdown("**Changed since you opened it:**")
        st.code("\n".join(data.history_lines(conflict.since)), language=None)
        st.markdown(
            "**Your edit (kept):** " + "; ".join(f"{k}: {v!r}" for k, v in conflict.attempted.given().items())
        )
        again, drop = st.columns(2)
        if again.button(f"Apply my edit to version {conflict.current_version}", key="actions_apply_again"):
            _apply(chosen, conflict.current_version, conflict.attempted)
        if drop.button("Drop my edit and reload", key="actions_drop"):
            pending.pop(chosen, None)
            seen.pop(chosen, None)
            st.rerun()
    effect = effects.get(chosen)
    if effect is not None and effect.measured_at is not None:
        st.markdown(f"**Did it work?** {effect.verdict.capitalize()} — {effect.explanation}")
    with st.expander("History", icon=":material/history:"):
        st.code("\n".join(data.history_lines(data.action_history(chosen))), language=None)

address.publish({"action": [str(chosen)] if chosen is not None else []})
