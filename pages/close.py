"""Month close (/close, operators): each ended month's close state, closing and re-closing with a preview of
what is recorded, what changed since the last close, and every revision as a ZIP."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

import pandas as pd
import streamlit as st

from usage_analytics import access_log, attention, closing, coverage, focus, handoff, periods, revisions, validation
from usage_analytics.areas import Area
from usage_analytics.build import UNREACHABLE, fingerprint
from usage_analytics.formatting import hours, usd_text
from usage_analytics.view import empty
from usage_analytics import tables

CONFIRMING = "close_confirming"  # the month whose close waits for its confirmation
DONE = "close_done"  # what the last close did, said once after the page is drawn again


def _figures(view, period) -> dict | None:
    """Every customer's figures of the month as of now; None after saying which export a close would lack."""
    found = view.summaries(period)
    if found is None or view.unavailable(found, Area.RUNTIME, Area.AI, Area.BILLING):
        return None
    return dict(sorted(found.items()))


def _packs(view, period) -> dict[str, dict] | None:
    found = _figures(view, period)
    return None if found is None else {cid: handoff.pack(s) for cid, s in found.items()}


def _months(view, store: revisions.Revisions) -> dict[str, list]:
    """The ended months the exports cover, with their close state; returns what moved since each closed
    month's latest revision, by month (the chosen month's section shows it again, not computed twice)."""
    rows, moved_by_month = [], {}
    since = validation.usage_since(view.data_reports())
    for month in [m for m in periods.recent_months(view.now.date()) if m.has_ended(view.now)
                  and since is not None and m.end > since]:
        latest = store.latest(month.label)
        row = {"month": month.first_day.strftime("%B %Y"), "state": "never closed", "revision": "—",
               "closed_at": "—", "closed_by": "—", "restated_customers": "—"}
        if latest is not None:
            packs = _packs(view, month) or {}
            moved = moved_by_month[month.label] = closing.restatements(store, month, packs)["customers"] \
                if packs else []
            row.update(state=f"restated since revision {latest.revision}" if moved else "closed",
                       revision=str(latest.revision), closed_at=latest.closed_at[:16].replace("T", " "),
                       closed_by=latest.closed_by, restated_customers=str(len(moved)))
        rows.append(row)
    st.subheader("Ended months", anchor=False)
    tables.show(view, pd.DataFrame(rows), "ended-months", whose=tables.ALL_CUSTOMERS, when=f"{view.now:%Y-%m-%d}",
                hide_index=True, width="stretch", column_config={
        "month": "Month", "state": "State", "revision": "Latest revision", "closed_at": "Closed (UTC)",
        "closed_by": "Closed by", "restated_customers": "Customers restated since"})
    if not rows:
        empty("No month with usage in the exports has ended yet.")
    return moved_by_month


def _changes(view, report: dict) -> None:
    """What changed since the latest revision, one row per figure: money in dollars and cents as on every card
    (the exact amounts are in the revision's packs and `restatements --period`)."""
    rows = []
    for moved in report["customers"]:
        if moved.get("removed"):
            rows.append({"customer": moved["customer_name"], "what": "no longer in the exports"})
            continue
        for what, figure, text in (("managed-AI cost", moved["managed_ai_cost_usd"], usd_text),
                                   *((f"{p['provider']} cost", p, usd_text) for p in moved["providers"]),
                                   ("runtime hours", moved["runtime_hours"], lambda v: hours(float(v)))):
            if figure["delta"] not in (0, 0.0, "0.000000"):
                delta = text(figure["delta"])
                rows.append({"customer": moved["customer_name"], "what": what, "closed": text(figure["closed"]),
                             "now": text(figure["now"]), "delta": delta if delta.startswith("-") else f"+{delta}"})
        if moved["status"]["closed"] != moved["status"]["now"]:
            rows.append({"customer": moved["customer_name"], "what": "managed-AI status",
                         "closed": moved["status"]["closed"], "now": moved["status"]["now"]})
    tables.show(view, pd.DataFrame(rows, columns=["customer", "what", "closed", "now", "delta"]), "restatements",
                whose=tables.ALL_CUSTOMERS, hide_index=True, width="stretch", column_config={
                    "customer": "Customer", "what": "What changed", "closed": "Closed", "now": "Now", "delta": "Delta"})


def _close(view, store: revisions.Revisions, month, packs: dict[str, dict], latest, moved: list) -> None:
    """The close button; a preview of what it records, then the close once confirmed."""
    if latest is not None and not moved:
        st.success(f"Nothing changed since revision {latest.revision}: closing again would record nothing.",
                   icon=":material/check_circle:")
        return
    unread = view.coverage().unread_text(coverage.PACK)
    if unread:  # as the command line: a close is never made of figures with files missing
        st.error(f"{month.first_day:%B %Y} cannot be closed now: export files could not be read ({unread}), so its "
                 "packs would be incomplete. Fix the exports (the Data health page names the files), then close.",
                 icon=":material/broken_image:")
        return
    if view.source[1].startswith(UNREACHABLE):  # (the fingerprint of this run: as the close would take it)
        st.error(f"{month.first_day:%B %Y} cannot be closed now: the exports cannot be reached, so its packs would be "
                 "the last store's figures, which may be stale. Close it when they can be read again (Data health "
                 "says when).", icon=":material/cloud_off:")
        return
    action = "Close" if latest is None else f"Re-close as revision {latest.revision + 1}"
    if st.session_state.get(CONFIRMING) != month.label:
        if st.button(f"{action} {month.first_day:%B %Y}…", type="primary", key="close_start"):
            st.session_state[CONFIRMING] = month.label
            st.rerun()
        return
    with st.container(border=True):
        revision = 1 if latest is None else latest.revision + 1
        st.markdown(f"**This records revision {revision} of {month.first_day:%B %Y}:** the "
                    f"handoff pack of each of the {len(packs):,} customers as JSON and CSV, and a manifest with the "
                    "data cut-off, the exports' fingerprint and every file's SHA-256. "
                    + (f"{_whose(len(moved))} figures differ from revision {latest.revision}." if latest else "")
                    + " Nothing of an earlier revision is changed.")
        confirm, cancel, _ = st.columns([1, 1, 3])
        if cancel.button("Cancel", key="close_cancel", width="stretch"):
            st.session_state.pop(CONFIRMING, None)
            st.rerun()
        if confirm.button("Confirm close", type="primary", key="close_confirm", width="stretch"):
            st.session_state.pop(CONFIRMING, None)
            _record(view, store, month, packs)


def _record(view, store: revisions.Revisions, month, packs: dict[str, dict]) -> None:
    charges = focus.charges(_figures(view, month))
    scope = closing.Scope(month, packs, True, closing.cutoff(view.data_reports()), fingerprint(view.settings.data_dir),
                          view.user.username, charges, view.settings.platform_name)
    latest, new, restated = closing.close(store, scope, view.now)
    if new:
        attention.remember_closed(view.settings, latest, packs)
        access_log.audit(view.settings, "close", view.user, page=view.page.id, customer="all", period=month.label,
                         detail=f"revision {latest.revision}" + (f", {len(restated)} restated" if restated else ""))
        st.session_state[DONE] = f"Recorded revision {latest.revision} of {month.first_day:%B %Y}."
    else:
        st.session_state[DONE] = f"Another close recorded the same figures first: unchanged since revision " \
                                 f"{latest.revision}."
    st.rerun()  # the months table and the revisions list as they are now


def _revisions(view, month, found: list) -> None:
    st.subheader("Revisions", anchor=False)
    for revision in reversed(found):
        text, button = st.columns([4, 1])
        manifest = revision.manifest()
        text.markdown(f"**Revision {revision.revision}** · closed {revision.closed_at[:16].replace('T', ' ')} UTC by "
                      f"{revision.closed_by} · "
                      f"{len(manifest['customers']):,} customers"
                      + (f" · {len(manifest['restated'])} restated" if manifest["restated"] else ""))
        button.download_button("ZIP", revision.zip, f"close_{month.label}_revision-{revision.revision}.zip",
                               "application/zip", icon=":material/download:", key=f"zip_{revision.revision}",
                               width="stretch", on_click=view.log_export(f"zip of revision {revision.revision}"))


def _whose(count: int) -> str:
    return f"{count:,} customer's" if count == 1 else f"{count:,} customers'"


def render(user, view) -> None:
    store = revisions.for_settings(view.settings)
    if DONE in st.session_state:
        st.success(st.session_state.pop(DONE), icon=":material/lock_clock:")
    moved_by_month = _months(view, store)
    month = view.period
    if not month.is_month or not month.has_ended(view.now):
        empty("To close a month or see what changed since its close, choose a month that has ended in the "
              "sidebar: Period → Previous month, or Calendar month and the month.")
        return
    st.subheader(f"{month.first_day:%B %Y}", anchor=False)
    try:
        closing.covered(month, view.data_reports())
    except closing.CloseError as error:
        empty(f"{error}.")
        return
    packs = _packs(view, month)
    if packs is None:
        return
    latest = store.latest(month.label)
    moved = moved_by_month.get(month.label, []) if latest else []
    if moved:
        st.warning(f"{_whose(len(moved))} figures changed since revision {latest.revision}: late usage or a "
                   "provider's restatement arrived after the close.", icon=":material/difference:")
        _changes(view, {"customers": moved})
    _close(view, store, month, packs, latest, moved)
    found = store.all(month.label)
    if found:
        _revisions(view, month, found)
    st.caption("A revision is every customer's handoff pack as JSON and CSV, as the Billing handoff page and the "
               "command line print it, and a manifest.json with each file's size and SHA-256 "
               "(`python -m usage_analytics verify MANIFEST`). Revisions are never changed or removed.")
