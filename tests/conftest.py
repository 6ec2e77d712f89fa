"""Fixtures built in code: literal rows written as parquet into a temp folder."""
from __future__ import annotations

import fcntl
import os
import tempfile
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from usage_analytics.contract import DATASETS
from usage_analytics.build import build
from usage_analytics.store import Store
from usage_analytics.sample import write_dataset

UTC = timezone.utc
# The tests run the app with the bundled auth.yaml's public cookie key, and never touch the repo's state/.
os.environ["DEMO_MODE"] = "1"
os.environ["STATE_DIR"] = tempfile.mkdtemp(prefix="usage-analytics-state-")
ROOT = Path(__file__).resolve().parent.parent


def at(text: str) -> datetime:
    """An aware UTC datetime from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def session(workspace: str, start: str, end: str | None, customer: str = "cus_a", template: str = "standard") -> dict:
    return {"customer_id": customer, "workspace_id": workspace, "user_id": "usr_1", "template": template,
            "started_at": at(start), "ended_at": at(end) if end else None}


def usage(bucket: str, provider: str = "openai", cost: str = "1.000000", customer: str = "cus_a",
          model: str = "m1", requests: int = 1, tokens: tuple[int, int, int] = (100, 10, 20)) -> dict:
    return {"customer_id": customer, "bucket_start": at(bucket), "provider": provider, "model": model,
            "provider_project_id": f"proj_secret_{provider}", "requests": requests, "input_tokens": tokens[0],
            "cached_input_tokens": tokens[1], "output_tokens": tokens[2], "cost_usd": Decimal(cost)}


def link(provider: str, customer: str = "cus_a") -> dict:
    return {"customer_id": customer, "provider": provider, "provider_project_id": f"proj_secret_{provider}",
            "linked_at": at("2026-01-01 00:00")}


def recon(day: str, status: str, provider: str = "openai", customer: str = "cus_a") -> dict:
    matched = status == "matched"
    return {"customer_id": customer, "provider": provider, "usage_date": at(day + " 00:00").date(), "status": status,
            "metered_cost_usd": Decimal("1"), "provider_cost_usd": Decimal("1") if status != "pending" else None,
            "reconciled_at": at(day + " 00:00") if matched else None}


def customer(customer_id: str = "cus_a", name: str = "Customer A", status: str = "active") -> dict:
    return {"customer_id": customer_id, "customer_name": name, "created_at": at("2025-06-01 00:00"),
            "account_status": status}


@pytest.fixture
def open_store(tmp_path):
    """open_store() -> a Store over tmp_path as its files are now; closed when the test ends."""
    stores = []

    def open_() -> Store:
        stores.append(build(tmp_path))
        return stores[-1]

    yield open_
    for store in stores:
        store.close()


@pytest.fixture
def exports(tmp_path, open_store):
    """write(**rows_by_dataset) -> a Store over them; datasets not given hold no rows."""

    def write(**datasets: list[dict]) -> Store:
        unknown = set(datasets) - set(DATASETS)
        assert not unknown, unknown
        datasets.setdefault("customers", [customer()])
        for name in DATASETS:
            write_dataset(tmp_path, name, datasets.get(name, []))
        return open_store()

    return write


@pytest.fixture(scope="session")
def sample_store():
    """The bundled sample under data/, as the app and the CLI read it."""
    store = build(ROOT / "data")
    yield store
    store.close()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium under Playwright, one per test module (the browser tests')."""
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM, CHROMIUM_ARGS

    (Path(__file__).parent / "artifacts").mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# -- tests that must have the machine to themselves --------------------------------------------------------
# The suite runs on two pytest-xdist workers. A test marked `alone` (the replicas' two-minute load test: two
# app servers, PostgreSQL and 50 clients on a 2-core machine, judged on zero errors) runs while the other worker
# waits: every test holds a shared lock on one file of the run while it runs, an `alone` test an exclusive one.
# A second lock (the turnstile) is taken on the way in, so that a waiting `alone` test is not starved by the
# other worker's stream of shared locks.
def _run_lock(name: str):
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return None if run is None else open(Path(tempfile.gettempdir()) / f"usage-analytics-{run}-{name}.lock", "a+")


@pytest.fixture(autouse=True)
def _alone_or_together(request):
    turnstile, machine = _run_lock("turnstile"), _run_lock("machine")
    if machine is None:  # (not under xdist: nothing else runs)
        yield
        return
    alone = request.node.get_closest_marker("alone") is not None
    try:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        fcntl.flock(machine, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        if not alone:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        yield
    finally:
        machine.close()  # (closing releases its lock)
        turnstile.close()
