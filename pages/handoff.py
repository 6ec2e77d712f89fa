"""Billing handoff (/handoff, operators): the pack of docs/product.md §6 on screen, as CSV and JSON downloads."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

import io
import shlex
from decimal import Decimal

import pandas as pd
import streamlit as st

from usage_analytics import closing, formatting, handoff, rules
from usage_analytics.view import close_note, empty
from usage_analytics.areas import Area
from usage_analytics import tables

# The pack's money columns: 6-place strings in the files, dollars and cents on screen (formatting.usd_text).
MONEY = ("cost_usd", "provider_cost_usd", "mismatch_usd", "ai_usd_estimated_now")
MONEY_HELP = "Shown in cents; the pack's CSV and JSON downloads (above) have the exact amount to 6 decimal places."


def render(user, view) -> None:
    if view.customer_id is None:
        empty("A handoff pack is for one customer: pick the customer in the sidebar. The Operators page "
                 "compares every customer.")
        return
    found = view.figures(Area.RUNTIME, Area.AI, Area.BILLING)  # a pack is all or nothing
    if found is None:
        return
    latest = view.month_close()
    pack = closing.with_close(latest, {view.customer_id: handoff.pack(found[view.customer_id])})[view.customer_id]
    as_csv, as_json = handoff.to_csv(pack), handoff.to_json(pack)
    if latest is not None:
        close_note(latest, pack["close"], by_whom=True, more="Download the pack as closed or as of now below.")
    ai, billing = pack["managed_ai"], pack["billing"]

    runtime, cost, status, ready = st.columns(4)
    runtime.metric(f"Workspace runtime · {pack['workspace_runtime_status']}", f"{pack['workspace_runtime_hours']:,.2f} h",
                   border=True)
    cost.metric("Managed-AI cost (USD)", formatting.figure(formatting.usd_card(Decimal(ai["cost_usd"])), ai["status"]),
                border=True, help=f"Exact: {formatting.usd_text(ai['cost_usd'], 6)}, as in the pack's downloads. "
                                  "Linked providers only.")
    status.metric("Managed-AI total", ai["status"], border=True,
                  help="Final only when the period has ended and every linked provider is final.")
    ready.metric("Workspace creation", {True: "allowed", False: "blocked", None: "unknown"}[billing["creation_allowed"]],
                 border=True, help=f"Next action: {billing['next_action']}")
    because = "; ".join(ai["provisional_because"])
    if ai["status"] == rules.INCOMPLETE:
        st.error(f"This pack is **incomplete**: {formatting.literal(because, None)}. Do not hand it over; the command "
                 "line refuses to write it without --allow-incomplete.", icon=":material/broken_image:")
    elif ai["status"] == rules.NO_DATA:
        st.warning(f"This pack has **no data**: {formatting.literal(pack['data']['note'], None)}. Its zeros are not "
                   "figures that can be quoted.", icon=":material/date_range:")
    elif ai["status"] != rules.FINAL:
        st.warning(f"This pack is **provisional** ({formatting.literal(because, None)}): quote it as an estimate; "
                   "the numbers may still change.", icon=":material/pending:")

    _downloads(view, as_csv, as_json, latest if pack["close"] else None, ai["status"] == rules.INCOMPLETE)

    st.subheader("The pack as it downloads", anchor=False)
    # The CSV itself, read back as text: the screen shows the cells finance receives, money in dollars and cents
    # like every table (the files keep 6 places). An empty money cell stays empty: a number column would draw
    # "None", so money is text here. (no download of its own: Download CSV above is this table's file, and is
    # logged as the pack's csv)
    tables.show(view, _on_screen(as_csv), "handoff-pack", download=False, hide_index=True, width="stretch",
                column_config={column: st.column_config.TextColumn(column, help=MONEY_HELP, alignment="right")
                               for column in MONEY})
    st.caption(f"Generated at {pack['generated_at']} for {pack['period']['start']} → {pack['period']['end']} "
               "(end exclusive, UTC). The command line gives the same pack: "
               + formatting.code(f"python -m usage_analytics handoff --customer {shlex.quote(view.customer_id)} "
                                 f"--period {view.period.label} --format csv", None))
    with st.expander("JSON"):
        st.code(as_json, language="json")


def _on_screen(as_csv: str) -> pd.DataFrame:
    """The pack's CSV as its table shows it: every cell as written, money as $1,148.30 (empty stays empty)."""
    frame = pd.read_csv(io.StringIO(as_csv), dtype=str, keep_default_na=False)
    for column in MONEY:
        if column in frame.columns:
            frame[column] = [formatting.usd_text(value) for value in frame[column]]
    return frame


def _downloads(view, as_csv: str, as_json: str, latest, incomplete: bool) -> None:
    """The pack as of now; for a closed month also as closed (the revision's own files, byte for byte). An
    incomplete pack says so in its buttons, its file names and the access log."""
    name = f"handoff_{formatting.file_part(view.customer_id)}_{view.period.label}" + ("_INCOMPLETE" if incomplete else "")
    now = " (incomplete)" if incomplete else " (as of now)" if latest else ""
    buttons = st.columns(4 if latest else [1, 1, 3])
    buttons[0].download_button(f"Download CSV{now}", as_csv, f"{name}.csv", "text/csv", icon=":material/download:",
                               width="stretch", on_click=view.log_export("csv" + (" (incomplete)" if incomplete else "")))
    buttons[1].download_button(f"Download JSON{now}", as_json, f"{name}.json", "application/json",
                               icon=":material/download:", width="stretch",
                               on_click=view.log_export("json" + (" (incomplete)" if incomplete else "")))
    if latest:
        for column, fmt, mime in ((buttons[2], "csv", "text/csv"), (buttons[3], "json", "application/json")):
            column.download_button(
                f"Download {fmt.upper()} (as closed)", latest.file(closing.pack_file(view.customer_id, fmt)),
                f"{name}_revision-{latest.revision}.{fmt}", mime, icon=":material/lock_clock:", width="stretch",
                on_click=view.log_export(f"{fmt} as closed, revision {latest.revision}"))
