"""Workspace runtime (/runtime): hours per day or week, by template and by workspace; top workspaces."""
import pandas as pd
import streamlit as st

from usage_analytics import charts, coverage, formatting, summary
from usage_analytics.view import empty
from usage_analytics.areas import Area
from usage_analytics import tables


def _top_table(runtime: pd.DataFrame, all_customers: bool) -> pd.DataFrame:
    keys = (["customer"] if all_customers else []) + ["workspace_id", "template"]
    table = runtime.groupby(keys, as_index=False).agg(runtime_hours=("runtime_hours", "sum"),
                                                      active_days=("day", "nunique"),
                                                      is_running=("is_running", "any"))
    return table.sort_values("runtime_hours", ascending=False).head(25).round({"runtime_hours": 2})


def render(user, view) -> None:
    found = view.figures(Area.RUNTIME)
    if found is None:
        return
    runtime = summary.combined(found, "runtime")
    if runtime.empty:
        view.nothing("No workspace ran in this period, so there is no runtime to show. Running workspaces count up "
                 "to now; a period that has not started yet is empty.", coverage.RUNTIME)
        return
    every = view.customer_id is None
    running = runtime.loc[runtime["is_running"], "workspace_id"].nunique()
    total, active, templates, live = st.columns(4)
    status = next(iter(found.values())).runtime_status  # (the same for every customer: the exports' state)
    total.metric(f"Runtime · {status}", formatting.figure(formatting.hours(runtime["runtime_hours"].sum()), status),
                 border=True,
                 help="Final once the period has ended and the exports cover it; incomplete when a sessions file "
                      "could not be read.")
    active.metric("Active workspaces", f"{runtime['workspace_id'].nunique():,}", border=True,
                  help="Workspaces with any runtime in the period.")
    templates.metric("Templates", f"{runtime['template'].nunique()}", border=True)
    live.metric("Running now", f"{running}", border=True, help="Sessions without an end yet count up to now.")

    grain = st.segmented_control("Show per", ["day", "week"], default="day", key="runtime_grain") or "day"
    by = "customer" if every and st.toggle("Colour by customer", key="runtime_by_customer") else "template"
    st.altair_chart(charts.runtime_over_time(runtime, grain, by, view.period, view.now), width="stretch")
    st.caption((f"Outlined bars: today (UTC), counted only up to {view.now:%H:%M} UTC. "
                if view.period.start <= view.now < view.period.end else "") + "Weeks are ISO weeks (Monday, "
               f"UTC) cut to the period; a cut week is marked partial. More than {charts.MAX_SERIES} series: the "
               "largest, and the rest as one grey \"other\".")

    left, right = st.columns(2)
    with left:
        st.subheader("By template", anchor=False)
        st.altair_chart(charts.hours_by(runtime, "template"), width="stretch")
    with right:
        st.subheader("Top workspaces", anchor=False)
        st.altair_chart(charts.hours_by(runtime, "workspace_id", color="template"), width="stretch")

    st.subheader("Top workspaces table", anchor=False)
    tables.show(view, _top_table(runtime, every), "top-workspaces", hide_index=True, width="stretch", column_config={
        "customer": "Customer", "workspace_id": "Workspace", "template": "Template",
        "runtime_hours": st.column_config.NumberColumn("Runtime hours", format="%.2f"),
        "active_days": st.column_config.NumberColumn("Active days"),
        "is_running": st.column_config.CheckboxColumn("Running now"),
    })
    st.caption("Runtime is the overlap of each session with the period (UTC). Overlapping sessions of one "
               "workspace count once; sessions crossing midnight are split exactly.")
