"""The frame around every page: cached data, the scope and period controls, the header, formats.

Streamlit's caches meet the core here: the Store once per process and data folder state, results keyed
by every parameter (the customer scope included), so a cache can never hand one customer's rows to another.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import pandas as pd
import streamlit as st

from . import access, auth, config, data, periods, rules, summary, validation
from .access import Page, Scope, User
from .config import ConfigError, Settings
from .periods import Period, PeriodError
from .summary import CustomerSummary

log = logging.getLogger("usage_analytics")
ALL_CUSTOMERS = "All customers"
PLATFORM_PAGES = ("operators", "data-health", "access-log")  # always every customer: no customer picker
BADGE_COLORS = {"current": "green", "lagging": "orange", "stale": "red", "mismatch": "red",
                "not configured": "gray"}
BADGE_ORDER = ("mismatch", "stale", "lagging", "current", "not configured")  # worst first
# Exact money (6 places, rounded half up by rules.usd) as a sortable number: below $1e9 a float keeps every digit.
MONEY_COLUMN = st.column_config.NumberColumn("Cost (USD)", format="$%.6f")


def start_session() -> None:
    """From the first run of app.py on, every request runs app.py, never a pages/ file directly; and a
    session's first run notes the page the browser asked for.

    While a pages/ folder exists, Streamlit starts in its folder mode: a deep link runs pages/<name>.py
    directly (inert: it shows nothing), and the first session lists the files as navigation.
    st.navigation ends that mode for the process, but it is only called once someone has logged in.
    So this does the one thing st.navigation does first (streamlit 1.67, commands/navigation.py); the
    browser test of a fresh server's deep links guards it. The first run's page still belongs to the
    folder mode, and a run whose mode differs from the previous run's drops the widgets' values (a login
    form's submit among them), so the first session after a server start reruns its first run once."""
    from streamlit import config as streamlit_config
    from streamlit.runtime.pages_manager import PagesManager

    in_folder_mode = PagesManager.uses_pages_directory is not False
    PagesManager.uses_pages_directory = False
    if "requested_page" not in st.session_state:
        st.session_state["requested_page"] = urlparse(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
        # AppTest puts every run back in folder mode, so there the rerun would cause the very change it avoids
        if in_folder_mode and not streamlit_config.get_option("global.appTest"):
            st.rerun()


def land_on_requested_page(registered: dict, current, settings: Settings, user: User) -> None:
    """Open the remembered page once, if this user may (only their pages are registered)."""
    wanted = st.session_state.get("requested_page", "")
    st.session_state["requested_page"] = ""  # done for this session
    if wanted in access.PAGE_IDS and wanted not in registered:
        auth.audit(settings, "denied", user, page=wanted, detail="page not open to this user")
        st.toast(f"You cannot open /{wanted}; here is your overview.", icon=":material/lock:")
    if wanted in registered and registered[wanted].url_path != current.url_path:
        st.switch_page(registered[wanted])


def settings() -> Settings:
    """Settings from the environment, or a clear message and an end to the run."""
    try:
        return config.load()
    except ConfigError as error:
        st.error(f"The app is misconfigured: {error}")
        st.stop()


@st.cache_resource(show_spinner="Opening the usage store…", max_entries=2)
def _store(data_dir: str, fingerprint: str) -> data.Store:
    """The process's DuckDB store over the exports as they are now: reopened when a file changes, and each
    UTC day, since rows dated in the future are refused as of the day it was opened. It is a file under
    STATE_DIR, built once per state of the exports (by the first process to need it) and then reused."""
    settings = config.load()
    return data.Store(Path(data_dir), settings.now(), settings.store_dir)


_PREPARED: set[tuple[str, str]] = set()  # exports states this process has found or built a store file for


def _prepare_store(settings: Settings, source: tuple[str, str]) -> None:
    """The first load after new exports checks them into a store file: show that, step by step. Looked at
    once per exports state and process: a rerun must not walk the exports folder again to find out."""
    if source in _PREPARED:
        return
    if not data.store_ready(settings.data_dir, settings.now(), settings.store_dir):
        with st.status("New usage exports: checking them into the analytics store…", expanded=True) as status:
            # built here, outside the cached _store (a cached function may not write to this box), then opened
            data.Store(settings.data_dir, settings.now(), settings.store_dir, status.write).close()
            status.update(label="The analytics store is ready", state="complete", expanded=False)
    _PREPARED.add(source)  # also when STATE_DIR cannot hold the file (the exports are then in memory)


def _source(settings: Settings) -> tuple[str, str]:
    """The cache key of the exports: folder, and its files' fingerprint on this UTC day."""
    return str(settings.data_dir), f"{data.fingerprint(settings.data_dir)}@{now(settings):%Y-%m-%d}"


# A resource, not data: st.cache_data would pickle the figures in and out on every rerun (about half a
# second for 5,000 customers). Summaries are frozen and hand out a new frame on each access, so sharing
# them across sessions is safe.
@st.cache_resource(show_spinner="Computing figures…", max_entries=256, ttl=3600)
def _summaries(data_dir: str, fingerprint: str, customer_id: str | None, first_day: date, last_day: date,
               now: datetime) -> dict[str, CustomerSummary]:
    return summary.summaries(_store(data_dir, fingerprint), Period(first_day, last_day), now, customer_id,
                             strict=False)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _provider_projects(data_dir: str, fingerprint: str, customer_id: str | None):
    return _store(data_dir, fingerprint).run("provider_projects", customer_id=customer_id)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _unlinked(data_dir: str, fingerprint: str, first_day: date, last_day: date, now: datetime):
    period = Period(first_day, last_day)
    return _store(data_dir, fingerprint).run("ai_unlinked_providers", customer_id=None, period_start=period.start,
                                             period_end=period.end, now=now)


@st.cache_data(show_spinner=False, max_entries=16, ttl=3600)
def _accounts(data_dir: str, fingerprint: str) -> dict[str, summary.Account]:
    return summary.accounts(_store(data_dir, fingerprint))


def accounts(settings: Settings) -> tuple[dict[str, summary.Account] | None, str]:
    """Every customer account by id, or None and the reason when the customers dataset is unusable."""
    try:
        source = _source(settings)
        _prepare_store(settings, source)
        return _accounts(*source), ""
    except data.DataError as error:
        log.warning("customers unavailable: %s", error)
        return None, str(error)


def now(settings: Settings) -> datetime:
    """The evaluation instant: pinned, or the clock to the minute (so a minute's reruns share the cache)."""
    moment = settings.now()
    return moment if settings.analytics_now else moment.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class View:
    """What a page renders: who, whose data (None = all customers, operators only), which period, as of when."""
    user: User
    page: Page
    customer_id: str | None
    customer_name: str
    period: Period
    now: datetime
    settings: Settings
    source: tuple[str, str]  # the exports' folder and fingerprint, taken once per run (cache keys)
    links: dict = field(default_factory=dict, compare=False)  # page id -> st.Page, for st.page_link

    def summaries(self, period: Period | None = None, now: datetime | None = None) -> dict[str, CustomerSummary] | None:
        """Figures per customer in scope (as of now, or an earlier instant), or None after saying which data
        is missing."""
        period = period or self.period
        try:
            return _summaries(*self.source, self.customer_id, period.first_day, period.last_day,
                              now or self.now)
        except data.DataError as error:
            st.error(f"These figures cannot be computed from the exports: {error}", icon=":material/error:")
            return None

    def figures(self, *areas: str) -> dict[str, CustomerSummary] | None:
        """The figures of the scope for a page that needs these areas, or None after saying what is missing."""
        found = self.summaries()
        if found is None or unavailable(self, found, *areas):
            return None
        return found

    def provider_projects(self):
        """Provider links with project IDs in scope: operators only, refused for anyone else."""
        if not access.can_see_provider_projects(self.user):
            raise PermissionError("provider project IDs are operator-only")
        return _provider_projects(*self.source, self.customer_id)

    def data_reports(self) -> dict[str, validation.DatasetReport]:
        """What loading the exports found, per dataset (the header's freshness, the Data health page)."""
        return _store(*self.source).reports

    def unlinked_usage(self):
        """Metered AI rows of providers with no link, for every customer in the period (operators only)."""
        if not self.user.is_operator:
            raise PermissionError("unattributed usage is operator-only")
        return _unlinked(*self.source, self.period.first_day, self.period.last_day, self.now)

    def link(self, page_id: str, label: str) -> None:
        if page_id in self.links:
            st.page_link(self.links[page_id], label=label, icon=access.page(page_id).icon)


def _customer_picker(scope: Scope, page: Page, known: dict[str, summary.Account]) -> tuple[str | None, str]:
    if scope.is_fixed:
        name = known[scope.customer_id].customer_name
        st.sidebar.markdown(f"**Customer**  \n{name}  \n`{scope.customer_id}` · your account")
        return scope.customer_id, name
    if page.id in PLATFORM_PAGES:
        st.sidebar.markdown(f"**Customer**  \n{ALL_CUSTOMERS} (this page covers the whole platform)")
        return None, ALL_CUSTOMERS
    options: list[str | None] = [None, *sorted(known, key=lambda c: known[c].customer_name.lower())]
    kept = st.session_state.get("scope_customer")  # kept while a page without the picker is open
    choice = st.sidebar.selectbox(
        "Customer", options, index=options.index(kept) if kept in options else 0, key="scope_widget",
        format_func=lambda c: ALL_CUSTOMERS if c is None else f"{known[c].customer_name} · {c}",
        help="Operators may look at any customer, or at all of them at once.")
    st.session_state["scope_customer"] = choice
    return choice, ALL_CUSTOMERS if choice is None else known[choice].customer_name


def _period_picker(today: date) -> Period:
    choice = st.sidebar.selectbox("Period", periods.PRESETS, key="period_choice",
                                  help="All periods are whole UTC days.")
    month = custom = None
    if choice == "Calendar month":
        month = st.sidebar.selectbox("Month", periods.recent_months(today), key="period_month",
                                     format_func=lambda p: p.first_day.strftime("%B %Y"))
    elif choice == "Custom range":
        picked = st.sidebar.date_input("From – to (UTC, both included)", value=(today.replace(day=1), today),
                                       key="period_custom", format="YYYY-MM-DD")
        custom = tuple(picked) if isinstance(picked, (tuple, list)) and len(picked) == 2 else None
    try:
        return periods.preset(choice, today, month, custom)
    except PeriodError as error:
        st.info(f"Period: {error}.")
        st.stop()


def controls(user: User, scope: Scope, page: Page, known: dict[str, summary.Account], settings: Settings,
             links: dict) -> View:
    """The sidebar's scope and period pickers (step 2 and 3 of the review flow) -> the page's View."""
    moment = now(settings)
    customer_id, name = _customer_picker(scope, page, known)
    period = _period_picker(moment.date())
    return View(user, page, customer_id, name, period, moment, settings, _source(settings), links)


def period_text(period: Period, moment: datetime) -> str:
    label = period.first_day.strftime("%B %Y") if period.label == period.first_day.strftime("%Y-%m") else period.label
    span = f"{period.first_day:%Y-%m-%d} → {period.last_day:%Y-%m-%d} UTC"
    if period.has_ended(moment):
        return f"**{label}** · {span} · closed"
    if moment < period.start:
        return f"**{label}** · {span} · not started yet"
    return f"**{label}** · {span} · open, figures to {moment:%Y-%m-%d %H:%M} UTC"


def header(view: View) -> None:
    """The page title and the scope line every page opens with (confirm the scope and the period)."""
    st.title(view.page.title, anchor=False)
    st.caption(view.page.caption)
    reports = view.data_reports()
    as_of = validation.data_as_of(reports)
    with st.container(border=True):
        who, when, fresh = st.columns([4, 6, 3])
        scope = view.customer_name if view.customer_id is None else f"{view.customer_name} · `{view.customer_id}`"
        who.markdown(f":material/domain: Customer scope: **{scope}**")
        when.markdown(f":material/calendar_month: Period: {period_text(view.period, view.now)}")
        fresh.markdown(f":material/update: Data as of **{as_of:%Y-%m-%d %H:%M} UTC**" if as_of else
                       ":material/update: No usage data yet")
    for warning in validation.stale(reports, view.now, view.settings.export_max_age_hours):
        st.warning(warning, icon=":material/schedule:")
    if any(r.status in ("degraded", "unusable") for r in reports.values()):
        where = "the Data health page lists them" if view.user.is_operator else \
            "the platform's operators can see which"
        st.caption(f":material/warning: Some export files or rows could not be used; {where}.")


def render(page_render: Callable[[User, View], None], view: View) -> None:
    """Run one page behind the access check; data problems become messages, never a traceback."""
    if not access.can_view(view.user, view.page.id):
        auth.audit_once(view.settings, "denied", view.user, page=view.page.id, detail="page not open to this user")
        st.error("You cannot open this page.")
        return
    auth.audit_once(view.settings, "page_view", view.user, page=view.page.id, customer=view.customer_id or "all",
                    period=view.period.label)
    header(view)
    try:
        page_render(view.user, view)
    except data.DataError as error:
        st.error(f"Part of this page cannot be shown: {error}", icon=":material/error:")
    except Exception:  # the user gets a sentence; the server log gets the details
        log.exception("page %s failed", view.page.id)
        st.error("Something went wrong while drawing this page. The error was logged for the operators.")


def log_export(view: View, file_format: str) -> Callable[[], None]:
    """A download button's on_click: the access log notes who took which file of which scope and period."""
    def note() -> None:
        auth.audit(view.settings, "export", view.user, page=view.page.id, customer=view.customer_id or "all",
                   period=view.period.label, detail=file_format)
    return note


def usd(amount: Decimal, places: int = 2) -> str:
    """Money for people: exact Decimal rounded half up (cents on cards, 6 places in tables)."""
    value = rules.usd(amount) if places == 6 else Decimal(amount).quantize(Decimal(1).scaleb(-places),
                                                                            rounding="ROUND_HALF_UP")
    return f"${value:,.{places}f}"


def usd_card(amount: Decimal) -> str:
    """Money on a card that shares a row with three others: cents up to a million, then $13.9M (the card's
    help carries the exact amount)."""
    return usd(amount) if abs(amount) < 1_000_000 else f"${compact(float(amount))}"


def compact(count: int) -> str:
    """A large count in a few characters (81.0M); cards carry the exact figure in their help."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= size:
            return f"{count / size:.1f}{suffix}"
    return f"{count:,}"


def hours(value: float) -> str:
    return f"{value:,.2f} h"


def badge(label: str) -> str:
    return f":{BADGE_COLORS.get(label, 'gray')}-badge[{label}]"


def lag_text(provider: summary.ProviderUsage) -> str:
    behind = "up to date" if provider.lag_days == 0 else \
        f"{provider.lag_days} day{'s' if provider.lag_days != 1 else ''} behind"
    return f"reconciled through {provider.reconciled_through:%Y-%m-%d} · {behind}"


def worst_badge(found: list[str]) -> str:
    return min(found, key=BADGE_ORDER.index) if found else "not configured"


def customer_badge(item: CustomerSummary) -> str:
    return worst_badge([p.badge for p in item.providers])


def comparison(period: Period, moment: datetime) -> tuple[Period, datetime, str] | None:
    """The previous period of equal length, cut at the same point as this one (like for like), and its label.

    An open period is compared with the same elapsed time of the previous one: November to the 24th
    noon against October 2nd to the 26th noon, not against all thirty days."""
    if moment <= period.start:
        return None
    previous = period.previous()
    cut = previous.start + (min(moment, period.end) - period.start)
    label = (f"the previous {previous.days} days ({previous.first_day:%Y-%m-%d} → {previous.last_day:%Y-%m-%d} UTC)"
             if period.has_ended(moment) else
             f"the same stretch of the previous {previous.days} days ({previous.start:%Y-%m-%d %H:%M} → "
             f"{cut:%Y-%m-%d %H:%M} UTC)")
    return previous, cut, label


def delta(current: float, previous: float) -> str | None:
    if previous == 0:
        return None if current == 0 else "new"
    return f"{(current - previous) / previous:+.1%}"


AREA_NAMES = {"runtime": "workspace runtime", "ai": "managed-AI usage and reconciliation", "billing": "billing"}


def unavailable(view: View, found: dict[str, CustomerSummary], *areas: str) -> bool:
    """Say which data a part of the page needs and cannot have; True when something was missing.

    Operators get the message with dataset, file and column; customers get which figures are missing."""
    gaps = next(iter(found.values())).gaps if found else {}
    missing = [a for a in areas if a in gaps]
    if view.user.is_operator:
        for message in dict.fromkeys(gaps[a] for a in missing):
            st.error(f"This part cannot be shown: {message}", icon=":material/error:")
    else:
        for area in missing:
            st.error(f"The {AREA_NAMES[area]} figures are unavailable right now: the platform's usage export for "
                     "them cannot be read. The platform's operators can see why.", icon=":material/error:")
    return bool(missing)


def combined(found: dict[str, CustomerSummary], part: str) -> pd.DataFrame:
    """One frame of a part (runtime or ai_daily) across the customers in scope, with a customer column."""
    return summary.combined(found, part)


def trend(found: dict[str, CustomerSummary], part: str) -> pd.DataFrame:
    """A part (runtime or ai_daily) summed across the scope's customers per day (no customer column)."""
    return summary.trend(found, part)


def empty(message: str) -> None:
    st.info(message, icon=":material/info:")
