"""Where Streamlit's caches meet the core: the store once per process and state of the exports, and results
keyed by every parameter (the customer scope included), so a cache can never hand one customer's rows to
another. Nothing here draws a page, except the status box of a first build."""
from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from . import build, config, summary
from .config import Settings
from .periods import Period
from .store import DataError, Store
from .summary import Account, CustomerSummary

log = logging.getLogger("usage_analytics")
Source = tuple[str, str]  # the exports' folder and their fingerprint on this UTC day: the caches' key


@st.cache_resource(show_spinner="Opening the usage store…", max_entries=2)
def _store(data_dir: str, fingerprint: str) -> Store:
    """The process's store over the exports as they are now: opened again when a file changes, and each
    UTC day, since rows dated in the future are refused as of the day it was built. A file under STATE_DIR,
    built once per state of the exports (by the first process to need it, see _prepare) and then reused."""
    settings = config.load()
    return build.build(Path(data_dir), settings.now(), settings.store_dir)


_PREPARED: set[Source] = set()  # exports states this process has found or built a store file for


def _prepare(settings: Settings, source: Source) -> None:
    """The first load after new exports checks them into a store file: show that, step by step. Looked at
    once per exports state and process: a rerun must not walk the exports folder again to find out."""
    if source in _PREPARED:
        return
    if not build.ready(settings.data_dir, settings.now(), settings.store_dir):
        with st.status("New usage exports: checking them into the analytics store…", expanded=True) as status:
            # built here, outside the cached _store (a cached function may not write to this box), then opened
            build.build(settings.data_dir, settings.now(), settings.store_dir, status.write).close()
            status.update(label="The analytics store is ready", state="complete", expanded=False)
    _PREPARED.add(source)  # also when STATE_DIR cannot hold the file (the exports are then in memory)


def now(settings: Settings) -> datetime:
    """The evaluation instant: pinned, or the clock to the minute (so a minute's reruns share the cache)."""
    moment = settings.now()
    return moment if settings.analytics_now else moment.replace(second=0, microsecond=0)


def source(settings: Settings) -> Source:
    """The cache key of the exports: folder, and its files' fingerprint on this UTC day."""
    return str(settings.data_dir), f"{build.fingerprint(settings.data_dir)}@{now(settings):%Y-%m-%d}"


def store(source_: Source) -> Store:
    return _store(*source_)


# A resource, not data: st.cache_data would pickle the figures in and out on every rerun (about half a
# second for 5,000 customers). Summaries are frozen and hand out a new frame on each access, so sharing
# them across sessions is safe.
@st.cache_resource(show_spinner="Computing figures…", max_entries=256, ttl=3600)
def _summaries(data_dir: str, fingerprint: str, customer_id: str | None, first_day: date, last_day: date,
               now: datetime) -> dict[str, CustomerSummary]:
    return summary.summaries(_store(data_dir, fingerprint), Period(first_day, last_day), now, customer_id,
                             strict=False)


def summaries(source_: Source, customer_id: str | None, period: Period, moment: datetime
              ) -> dict[str, CustomerSummary]:
    """Figures per customer in scope (one, or all for None) for a period as of a moment."""
    return _summaries(*source_, customer_id, period.first_day, period.last_day, moment)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def provider_projects(data_dir: str, fingerprint: str, customer_id: str | None) -> pd.DataFrame:
    return _store(data_dir, fingerprint).run("provider_projects", customer_id=customer_id)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def unlinked(data_dir: str, fingerprint: str, first_day: date, last_day: date, now: datetime) -> pd.DataFrame:
    period = Period(first_day, last_day)
    return _store(data_dir, fingerprint).run("ai_unlinked_providers", customer_id=None, period_start=period.start,
                                             period_end=period.end, now=now)


@st.cache_data(show_spinner=False, max_entries=16, ttl=3600)
def _accounts(data_dir: str, fingerprint: str) -> dict[str, Account]:
    return summary.accounts(_store(data_dir, fingerprint))


def accounts(settings: Settings) -> tuple[dict[str, Account] | None, str]:
    """Every customer account by id, or None and the reason when the customers dataset is unusable."""
    try:
        found = source(settings)
        _prepare(settings, found)
        return _accounts(*found), ""
    except DataError as error:
        log.warning("customers unavailable: %s", error)
        return None, str(error)
