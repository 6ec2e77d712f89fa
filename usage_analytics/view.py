"""What a page is handed: the View of one run (who, whose data, which period, as of when), its data through
the caches, a missing area said once, an export logged; and the empty-state note and money column pages share."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Callable

import pandas as pd
import streamlit as st

from . import access_log, areas, attention, caches, coverage, formatting, frames, revisions
from .access import Action, Page, User, can, page
from .areas import Area
from .config import Settings
from .coverage import Coverage
from .periods import Period
from .revisions import Revision
from .store import DataError
from .summary import CustomerSummary
from .validation import DatasetReport

# Money as a sortable number shown in dollars and cents ($1,148.30); the download has the exact 6 places (rounded
# half up by rules.usd; below $1e9 a float keeps every digit).
MONEY_HELP = "Shown in cents; Download CSV has the exact amount to 6 decimal places."
MONEY_COLUMN = st.column_config.NumberColumn("Cost (USD)", format="dollar", help=MONEY_HELP)


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
    source: caches.Source  # the exports' folder and fingerprint, taken once per run (cache keys)
    links: dict = field(default_factory=dict, compare=False)  # page id -> st.Page, for st.page_link

    def summaries(self, period: Period | None = None, now: datetime | None = None, ahead: bool = True
                  ) -> dict[str, CustomerSummary] | None:
        """Figures per customer in scope (as of now, or an earlier instant), or None after saying which data
        is missing. ahead=False leaves out the look ahead (balances, projections) for figures a page only
        compares with: for every customer it is the costliest query of a month."""
        try:
            return caches.summaries(self.source, self.customer_id, period or self.period, now or self.now,
                                    self.settings, ahead)
        except DataError as error:
            st.error(f"These figures cannot be computed from the exports: {error}", icon=":material/error:")
            return None

    def every_customer(self) -> pd.DataFrame:
        """The Operators page's table of the scope's figures (every_customer.table), kept with them; call after
        summaries(), which says why when they cannot be computed."""
        return caches.every_customer(self.source, self.customer_id, self.period, self.now, self.settings)

    def figures(self, *needed: Area) -> dict[str, CustomerSummary] | None:
        """The figures of the scope for a page that needs these areas, or None after saying what is missing."""
        found = self.summaries()
        if found is None or self.unavailable(found, *needed):
            return None
        return found

    def provider_projects(self) -> pd.DataFrame:
        """Provider links with project IDs in scope: refused to anyone the policy does not let see them."""
        if not can(self.user, Action.SEE_PROVIDER_PROJECTS):
            raise PermissionError("provider project IDs are operator-only")
        return caches.provider_projects(*self.source, self.customer_id)

    def coverage(self) -> Coverage:
        """What the exports cover of the period up to now, and which of their files could not be read."""
        return coverage.coverage(self.data_reports(), self.period, self.now, self.settings.export_max_age_hours)

    def data_reports(self) -> dict[str, DatasetReport]:
        """What loading the exports found, per dataset (the header's freshness, the Data health page)."""
        return caches.store(self.source).reports

    def unlinked_usage(self) -> pd.DataFrame:
        """Metered AI rows of providers with no link, for every customer in the period."""
        if not can(self.user, Action.SEE_UNLINKED_USAGE):
            raise PermissionError("unattributed usage is operator-only")
        return caches.unlinked(*self.source, self.period.first_day, self.period.last_day, self.now)

    def month_close(self) -> Revision | None:
        """The latest close of the period, when it is a calendar month that was closed."""
        if not self.period.is_month:
            return None
        return revisions.for_settings(self.settings).latest(self.period.label)

    def attention(self) -> list[attention.Entry] | None:
        """The attention queue of the scope as of now (made from the calendar month holding now, whatever the
        period picked), or None after saying that its figures cannot be computed."""
        if self.summaries(attention.month_of(self.now)) is None:  # (said why; the queue is made from these)
            return None
        return caches.queue(self.source, self.customer_id, self.now, self.settings)

    def nothing(self, message: str, datasets: tuple[str, ...] | None = None) -> None:
        """An empty part of the page (made from these datasets): its message; or, when a file of one could not
        be read, that nothing can be shown; or, when the exports do not cover the period at all, that there is
        no data. Never "no usage", which would read as a true zero. (datasets: None is every one of a pack.)"""
        datasets = datasets or coverage.PACK
        data = self.coverage()
        if data.unread_in(datasets):
            empty(f"Nothing can be shown here: export files it is made from could not be read "
                  f"({data.unread_text(datasets)}).")
        else:
            empty(f"There is no data for this period: {data.note}." if data.level == coverage.NONE else message)

    def link(self, page_id: str, label: str) -> None:
        if page_id in self.links:
            st.page_link(self.links[page_id], label=label, icon=page(page_id).icon)

    def unavailable(self, found: dict[str, CustomerSummary], *needed: Area) -> bool:
        """Say which data a part of the page needs and cannot have; True when something was missing.

        Those who may see dataset internals get the message with dataset, file and column; others are told
        which figures are missing."""
        gaps = next(iter(found.values())).gaps if found else {}
        missing = [a for a in areas.checked(needed) if a in gaps]
        if can(self.user, Action.SEE_DATA_INTERNALS):
            for message in dict.fromkeys(gaps[a] for a in missing):
                st.error(f"This part cannot be shown: {message}", icon=":material/error:")
        else:
            for area in missing:
                st.error(f"The {area.value} figures are unavailable right now: the platform's usage export for "
                         "them cannot be read. The platform's operators can see why.", icon=":material/error:")
        return bool(missing)

    def log_export(self, file_format: str) -> Callable[[], None]:
        """A download button's on_click: the access log notes who took which file of which scope and period."""
        def note() -> None:
            access_log.audit(self.settings, "export", self.user, page=self.page.id,
                             customer=self.customer_id or "all", period=self.period.label, detail=file_format)
        return note

    def rows(self, name: str, what: str, **extra: object) -> pd.DataFrame:
        """The rows of a query the page draws (areas.DRAWN) in scope, with its further parameters; an empty frame
        with its columns after saying that `what` (e.g. "Runtime per user") cannot be computed, and why to those
        who may see the exports' internals."""
        if name not in areas.DRAWN:
            raise KeyError(f"{name} is not a query a page draws (areas.DRAWN)")
        try:
            return caches.rows(*self.source, name, self.customer_id, self.period.first_day, self.period.last_day,
                               self.now, tuple(sorted(extra.items())))
        except DataError as error:  # (what is wrong with the exports is for those who may see their internals)
            st.error(f"{what} cannot be computed from the exports"
                     + (f": {error}" if can(self.user, Action.SEE_DATA_INTERNALS) else
                        " right now. The platform's operators can see why."), icon=":material/error:")
            return frames.no_rows(name)

    def runtime_by_user(self) -> pd.DataFrame:
        """Workspace runtime per user in scope (hours, workspaces, running now), largest first per customer."""
        return self.rows("runtime_by_user", "Runtime per user")

    def active_users(self) -> int:
        """Users with workspace runtime in the period across the scope (the users runtime_by_user lists, counted)."""
        return int(self.rows("runtime_active_users", "Active users")["active_users"].sum())


def refused_note(item: CustomerSummary, datasets: tuple[str, ...]) -> None:
    """This customer's own rows of these datasets that were not used (dataset, count, reason, the value), never a
    file path."""
    refused = [r for r in item.refused if r.dataset in datasets]
    if not refused:
        return
    lines = "; ".join(f"{r.dataset}: {r.rows:,} row{'s' if r.rows != 1 else ''}, column {r.column} {r.reason}"
                      + (f" ({formatting.literal(repr(r.value), 60)})" if r.value is not None else "")
                      for r in refused)
    st.warning(f"**Some of this account's own rows in the exports were not used**, so figures made from them "
               f"leave them out: {lines}. The platform's operators can correct the export.", icon=":material/rule:")


def empty(message: str) -> None:
    st.info(message, icon=":material/info:")


def close_note(latest: Revision, block: dict | None, by_whom: bool, more: str = "") -> None:
    """A closed month's figures: which revision they were closed as (and by whom, for those who may close), and
    what changed since, in amounts."""
    who = f" by {latest.closed_by}" if by_whom else ""
    st.info(f"Closed figures · revision {latest.revision} · closed {latest.closed_at[:10]}{who}. {more}".rstrip(),
            icon=":material/lock_clock:")
    if block and block["restated"]:
        cost, hours = block["managed_ai_cost_usd"], block["runtime_hours"]
        providers = "; ".join(f"{formatting.literal(p['provider'])} {_signed_usd(p['delta'])}" for p in block["providers"])
        st.warning(f"**The figures changed since revision {latest.revision}:** managed AI {formatting.usd(Decimal(cost['closed']))} "
                   f"→ {formatting.usd(Decimal(cost['now']))} ({_signed_usd(cost['delta'])}"
                   + (f": {providers}" if providers else "") + ")"
                   + (f"; runtime {formatting.hours(hours['closed'])} → {formatting.hours(hours['now'])}"
                      if hours["delta"] else "") + ". Late usage or a provider's restatement arrived after the close.",
                   icon=":material/difference:")


def _signed_usd(delta: str) -> str:
    amount = Decimal(delta)
    return ("+" if amount >= 0 else "−") + formatting.usd(abs(amount))
