"""Data health (/data-health, operators): per dataset the files, rows read and rejected, forbidden columns."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

import pandas as pd
import streamlit as st

from usage_analytics import validation
from usage_analytics.view import empty
from usage_analytics import tables

ICONS = {"ok": ":material/check_circle:", "empty": ":material/radio_button_unchecked:",
         "degraded": ":material/warning:", "unusable": ":material/cancel:"}
STATUS_ICON = {"ok": ":green[:material/check_circle:]", "empty": ":gray[:material/radio_button_unchecked:]",
               "degraded": ":orange[:material/warning:]", "unusable": ":red[:material/cancel:]"}


def _overview(view, reports: dict) -> None:
    table = pd.DataFrame([{
        "dataset": r.name, "status": r.status, "files": len(r.files), "files_not_read": len(r.bad_files),
        "rows_read": r.rows_read, "rows_used": r.rows_kept, "rows_rejected": r.rejected_rows,
        "forbidden_columns": len({column for _, column in r.forbidden}),
        "newest": r.newest.strftime("%Y-%m-%d %H:%M UTC") if r.newest else "",
    } for r in reports.values()])
    tables.show(view, table, "data-health_datasets", whose="", when=f"{view.now:%Y-%m-%d}", hide_index=True,
                width="stretch", column_config={
        "dataset": "Dataset", "status": "Status", "files": "Files", "files_not_read": "Files not read",
        "rows_read": st.column_config.NumberColumn("Rows read", format="localized"),
        "rows_used": st.column_config.NumberColumn("Rows used", format="localized"),
        "rows_rejected": st.column_config.NumberColumn("Rows rejected", format="localized"),
        "forbidden_columns": "Forbidden columns", "newest": "Newest event"})


def _details(view, report: validation.DatasetReport) -> None:
    with st.expander(f"{report.name} · {report.status}", icon=ICONS[report.status],
                     expanded=report.status in ("degraded", "unusable")):
        if report.unusable:
            st.error(f"Unusable: {report.unusable}. Pages that need it say so; the others keep working.")
        if report.rejected:
            st.markdown("**Rows not used, by reason** (a row can fail several checks)")
            tables.show(view, pd.DataFrame([{
                "column": r.column, "reason": r.reason, "rows": r.rows,
                "samples": "; ".join(f"{value!r} in {file}" for file, value in r.samples)}
                for r in report.rejected]), f"data-health_{report.name}_rejected-rows", whose="",
                when=f"{view.now:%Y-%m-%d}", hide_index=True, width="stretch")
        if report.bad_files:
            st.markdown("**Files not read**")
            tables.show(view, pd.DataFrame(report.bad_files, columns=["file", "why"]),
                        f"data-health_{report.name}_files-not-read", whose="", when=f"{view.now:%Y-%m-%d}",
                        hide_index=True, width="stretch")
        if report.forbidden:
            st.markdown("**Columns that look like content or credentials** — flagged by name, never read; "
                        "ask the export's owner to drop them")
            tables.show(view, pd.DataFrame(report.forbidden, columns=["file", "column"]),
                        f"data-health_{report.name}_forbidden-columns", whose="", when=f"{view.now:%Y-%m-%d}",
                        hide_index=True, width="stretch")
        if not report.files and not report.unusable:
            st.info("The folder holds no parquet files.")
        if report.status == "ok":
            files = len(report.files)
            st.markdown(f"{report.rows_read:,} row{'s' if report.rows_read != 1 else ''} in {files} "
                        f"file{'s' if files != 1 else ''}, all used.")


def render(user, view) -> None:
    reports = view.data_reports()
    counts = pd.Series([r.status for r in reports.values()]).value_counts()
    for column, status in zip(st.columns(4), ("ok", "degraded", "unusable", "empty")):
        column.metric(f"{STATUS_ICON[status]} {status}", int(counts.get(status, 0)), border=True)
    stale = validation.stale(reports, view.now, view.settings.export_max_age_hours)
    as_of = validation.data_as_of(reports)
    st.markdown(f"**Freshness:** data as of {as_of:%Y-%m-%d %H:%M} UTC (the older of the newest session and "
                f"the newest AI bucket); flagged stale after {view.settings.export_max_age_hours:g} hours"
                if as_of else "**Freshness:** no usage rows yet")
    for sentence in stale:
        st.warning(sentence, icon=":material/schedule:")
    _overview(view, reports)
    st.subheader("Per dataset", anchor=False)
    for report in reports.values():
        _details(view, report)
    st.subheader("Metered usage with no provider link", anchor=False)
    unlinked = view.unlinked_usage()
    if unlinked.empty:
        empty("Every provider with metered usage in this period is linked to its customer.")
    else:
        st.caption("Reconciliation is not configured for these customer–provider pairs, so their usage is not "
                   "attributed to the customer or counted on any page, in this period.")
        tables.show(view, unlinked, "data-health_unlinked-usage", whose=tables.ALL_CUSTOMERS, hide_index=True,
                    width="stretch", column_config={
            "customer_id": "Customer id", "provider": "Provider",
            "metered_rows": st.column_config.NumberColumn("Metered rows (hour buckets)")})
