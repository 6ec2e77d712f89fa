"""The scope and period controls in the sidebar (steps 2 and 3 of the review flow), and the header every page
opens with, which states them back (confirm the scope and the period)."""
from __future__ import annotations

from datetime import date

import streamlit as st

from . import access, caches, coverage, links, periods, validation
from .access import Page, Scope, User
from .config import Settings
from .formatting import code, literal, period_text, plain
from .periods import Period, PeriodError
from .session_keys import SCOPE_CUSTOMER
from .summary import Account
from .store import DataError
from .view import View, refused_note

ALL_CUSTOMERS = "All customers"
# The datasets each page's figures are made from: its header names unread files and refused rows of these only.
# (Data health and the access log make no figures of their own: the first lists every problem itself.)
PAGE_DATASETS = {"overview": coverage.PACK, "handoff": coverage.PACK, "close": coverage.PACK,
                 "operators": coverage.PACK, "runtime": ("customers", *coverage.RUNTIME),
                 "managed-ai": ("customers", *coverage.MANAGED_AI), "reconciliation": ("customers", *coverage.MANAGED_AI),
                 "billing": ("customers", *coverage.BILLING)}
PLATFORM_PAGES = ("close", "operators", "data-health", "access-log")  # always every customer: no customer picker
AS_OF_NOW = ("billing",)  # pages whose figures are as of now, whatever period is picked


_WRITTEN = "links_written"  # the query string (our parameters) this session's last run wrote


def _from_link(scope: Scope, page: Page, known: dict[str, Account]) -> None:
    """Before the pickers are drawn: when the query string asks for another period or customer than this session
    last wrote (a shared link, a bookmark), or the pickers' state was dropped (a run that drew no picker), set
    the pickers to it. A value that cannot be used gets one line and the default. A customer admin's customer
    parameter is ignored: their scope only ever comes from auth.yaml."""
    params = links.ours(st.query_params.to_dict())
    if not params or (params == st.session_state.get(_WRITTEN) and "period_choice" in st.session_state):
        return
    pick, problem = links.period_pick(params)
    if problem:
        st.info(problem, icon=":material/link_off:")
    pick = pick or links.Pick(links.MONTH)
    st.session_state["period_choice"] = pick.choice
    if pick.month:
        st.session_state["period_month"] = pick.month
    if pick.custom:
        st.session_state["period_custom"] = pick.custom
    if scope.is_fixed or page.id in PLATFORM_PAGES:
        return
    customer = params.get("customer")
    if customer is not None and customer not in known:
        st.info(f"The link's customer {literal(customer, 60)} is not in the exports, so all customers are shown.",
                icon=":material/link_off:")
        customer = None
    st.session_state[SCOPE_CUSTOMER] = customer
    st.session_state.pop("scope_widget", None)  # (drawn again from SCOPE_CUSTOMER)


def _to_link(pick: links.Pick, today: date, customer_id: str | None, picked: bool) -> None:
    """Keep the query string in step with the pickers (picked: the customer is this page's pick, an operator's),
    so the address bar is always a link to what is shown."""
    wanted = links.period_params(pick, today)
    if picked and customer_id is not None:
        wanted["customer"] = customer_id
    if st.query_params.to_dict() != wanted:  # (a parameter the app does not read is dropped, never echoed back)
        st.query_params.from_dict(wanted)
    st.session_state[_WRITTEN] = wanted


def _customer_picker(scope: Scope, page: Page, known: dict[str, Account]) -> tuple[str | None, str]:
    if scope.is_fixed:
        name = known[scope.customer_id].customer_name
        st.sidebar.markdown(f"**Customer**  \n{literal(name)}  \n{code(scope.customer_id)} · your account",
                            help=f"{literal(name, None)} · {literal(scope.customer_id, None)}")
        return scope.customer_id, name
    if page.id in PLATFORM_PAGES:
        st.sidebar.markdown(f"**Customer**  \n{ALL_CUSTOMERS} (this page covers the whole platform)")
        return None, ALL_CUSTOMERS
    options: list[str | None] = [None, *sorted(known, key=lambda c: known[c].customer_name.lower())]
    kept = st.session_state.get(SCOPE_CUSTOMER)  # kept while a page without the picker is open
    choice = st.sidebar.selectbox(
        "Customer", options, index=options.index(kept) if kept in options else 0, key="scope_widget",
        format_func=lambda c: ALL_CUSTOMERS if c is None else f"{plain(known[c].customer_name, 40)} · {plain(c, 40)}",
        help="Operators may look at any customer, or at all of them at once.")
    st.session_state[SCOPE_CUSTOMER] = choice
    return choice, ALL_CUSTOMERS if choice is None else known[choice].customer_name


def _period_picker(today: date) -> tuple[Period, links.Pick]:
    choice = st.sidebar.selectbox("Period", periods.PRESETS, key="period_choice",
                                  help="All periods are whole UTC days. The address bar keeps the period (and an "
                                       "operator's customer): copy it to share this view.")
    month = custom = None
    if choice == "Calendar month":
        options = periods.recent_months(today)
        linked = st.session_state.get("period_month")
        if isinstance(linked, Period) and linked not in options:  # an older month from a link
            options = sorted([*options, linked], key=lambda p: p.first_day, reverse=True)
        month = st.sidebar.selectbox("Month", options, key="period_month",
                                     format_func=lambda p: p.first_day.strftime("%B %Y"))
    elif choice == "Custom range":
        default = {} if "period_custom" in st.session_state else {"value": (today.replace(day=1), today)}
        picked = st.sidebar.date_input("From – to (UTC, both included)", key="period_custom", format="YYYY-MM-DD",
                                       **default)
        custom = tuple(picked) if isinstance(picked, (tuple, list)) and len(picked) == 2 else None
    pick = links.Pick(choice, month, custom)
    try:
        return periods.preset(choice, today, month, custom), pick
    except PeriodError as error:
        st.info(f"Period: {error}.")
        st.stop()


def controls(user: User, scope: Scope, page: Page, known: dict[str, Account], settings: Settings,
             links_: dict) -> View:
    """The sidebar's scope and period pickers (set from the query string when it asks for other ones, and
    written back to it) -> the page's View."""
    moment = caches.now(settings)
    _from_link(scope, page, known)
    customer_id, name = _customer_picker(scope, page, known)
    period, pick = _period_picker(moment.date())
    _to_link(pick, moment.date(), customer_id, not scope.is_fixed and page.id not in PLATFORM_PAGES)
    return View(user, page, customer_id, name, period, moment, settings, caches.source(settings), links_)


def header(view: View) -> None:
    """The page title and the scope line every page opens with."""
    st.title(view.page.title, anchor=False)
    st.caption(view.page.caption)
    reports = view.data_reports()
    as_of = validation.data_as_of(reports)
    data = view.coverage()
    with st.container(border=True):
        who, when, fresh = st.columns([4, 6, 3])
        scope = view.customer_name if view.customer_id is None else \
            f"{literal(view.customer_name)} · {code(view.customer_id)}"
        who.markdown(f":material/domain: Customer scope: **{scope}**")
        if view.page.id in AS_OF_NOW:  # (the period picked elsewhere does not apply here)
            when.markdown(f":material/schedule: **As of now**, {view.now:%Y-%m-%d %H:%M} UTC: billing has no period")
        elif view.page.id == "access-log":  # (its window is picked on the page and follows the real clock)
            when.markdown(":material/schedule: **Real clock**: the window is picked below; entries say when it "
                          "happened")
        else:
            when.markdown(f":material/calendar_month: Period: {period_text(view.period, view.now, data.stale_until)}")
        fresh.markdown(f":material/update: Data as of **{as_of:%Y-%m-%d %H:%M} UTC**" if as_of else
                       ":material/update: No usage data yet")
    for warning in validation.stale(reports, view.now, view.settings.export_max_age_hours):
        st.warning(warning, icon=":material/schedule:")
    where = "the Data health page lists them" if access.can_view(view.user, "data-health") else \
        "the platform's operators can see which"
    datasets = PAGE_DATASETS.get(view.page.id, ())
    if data.unread_in(datasets):
        st.error(f"**Incomplete figures:** export files could not be read ({data.unread_text(datasets)}). "
                 f"Every figure made from them is marked incomplete and none of them is final; {where}.",
                 icon=":material/broken_image:")
    if data.level != coverage.FULL and view.page.id not in ("data-health", "access-log", *AS_OF_NOW):
        st.warning(f"**This period is {'outside' if data.level == coverage.NONE else 'only partly inside'} the "
                   f"exports:** {data.note}. " + ("Its figures are not zeros that can be quoted: there is no data."
                                                  if data.level == coverage.NONE else
                                                  "Its figures cover only that part, and none of them is final."),
                   icon=":material/date_range:")
    if any(r.status in ("degraded", "unusable") for r in reports.values()) and not data.unread_in(datasets):
        st.caption(f":material/warning: Some export files or rows could not be used; {where}.")
    if view.customer_id is not None:
        try:  # (the page asks for the same figures next: cached; a problem is said there, once)
            found = caches.summaries(view.source, view.customer_id, view.period, view.now,
                                     view.settings)
        except DataError:
            found = {}
        if view.customer_id in found:
            refused_note(found[view.customer_id], datasets)
