"""How long each page takes in Chromium, as a user feels it: from the click until the page stops changing
(the app's script done, no status widget or placeholder, and the same content for a full second), through
the real login as `ops` against `streamlit run app.py`; and the CPU the server spent on it (the `streamlit run`
process's user + system time from /proc, every thread, DuckDB's included, from the click until the page was
still), with the load average at the walk's start and end. Not a test: the browser rows of docs/performance.md
come from it. It uses the browser tests' helpers (tests/browser.py), so it puts tests/ on sys.path itself.

    python -m bench.page_timing --data DIR --state DIR --now 2026-11-24T12:00:00Z --customer cus_00000 ...

Give the state folder whose store/ already holds the store file for that data and day, or the first load
builds it (and is timed with it)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # browser.py lives beside the tests
from browser import CHROMIUM, CHROMIUM_ARGS, serve, settle  # noqa: E402

PAGES = ["Overview", "Workspace runtime", "Managed AI", "Reconciliation", "Billing", "Billing handoff",
         "Operators", "Data health"]
SIGNATURE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    const busy = !app || app.dataset.testScriptState !== 'notRunning'
        || !!document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]');
    const drawn = main.querySelectorAll('canvas, svg, [data-testid="stDataFrame"]').length;
    return [busy, main.innerText.length + ':' + drawn + ':' + main.innerText.slice(0, 4000)];
}"""


def until_still(page, started: float, quiet: float = 1.0, limit: float = 120.0) -> float:
    """Seconds from started until the page last changed, once it has been idle and unchanged for `quiet` s."""
    last, changed = None, started
    while time.monotonic() - started < limit:
        busy, seen = page.evaluate(SIGNATURE)
        now = time.monotonic()
        if busy or seen != last:
            last, changed = (None if busy else seen), now
        elif now - changed >= quiet:
            return changed - started
        page.wait_for_timeout(50)
    raise TimeoutError("the page kept changing")


def timed(page, action) -> float:
    started = time.monotonic()
    action()
    return until_still(page, started)


class Server:
    """The `streamlit run` this process started (its child): its CPU time and memory as Linux counts them."""

    def __init__(self) -> None:
        self.pid = next((int(status.parent.name) for status in Path("/proc").glob("[0-9]*/status")
                         if _is_our_server(status)), None)

    def cpu_ms(self) -> float:
        """User + system time of every thread so far (/proc/<pid>/stat's utime and stime, in clock ticks)."""
        if self.pid is None:
            return float("nan")
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    def memory(self) -> str:
        """Its resident memory now and at its peak (VmRSS and VmHWM in /proc/<pid>/status)."""
        if self.pid is None:
            return "not found"
        fields = _status(Path(f"/proc/{self.pid}/status"))
        return f"{_mb(fields['VmRSS'])} resident, {_mb(fields['VmHWM'])} at its peak"

    def visit(self, page, action) -> tuple[float, float]:
        """(seconds until the page is still, the server's CPU ms over them)."""
        before = self.cpu_ms()
        seconds = timed(page, action)
        return seconds, self.cpu_ms() - before


def _status(status: Path) -> dict[str, str]:
    return dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)


def _is_our_server(status: Path) -> bool:
    try:
        return int(_status(status).get("PPid", "0")) == os.getpid() and b"streamlit" in (
            status.parent / "cmdline").read_bytes()
    except OSError:
        return False


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--customer", action="append", default=[], help="a customer id to time too (repeatable)")
    parser.add_argument("--visits", type=int, default=2, help="visits per page and scope (default 2)")
    args = parser.parse_args()
    env = {"USAGE_DATA_DIR": args.data, "STATE_DIR": args.state, "ANALYTICS_NOW": args.now, "DEMO_MODE": "1"}
    rows: list[tuple[str, str, list[tuple[float, float]]]] = []
    started_load = load_average()
    with serve(env) as url, sync_playwright() as p:
        server = Server()
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
        page.goto(url)
        page.get_by_label("Username").wait_for(timeout=60_000)
        settle(page)
        page.get_by_label("Username").fill("ops")
        page.get_by_label("Password", exact=True).fill("ops-demo-pass")
        rows.append(("login", "to the first page (all customers)",
                     [server.visit(page, lambda: page.get_by_role("button", name="Log in").click())]))
        nav = page.locator('[data-testid="stSidebarNav"] a')
        for scope in [None, *args.customer]:
            label = "all customers" if scope is None else scope
            if scope is not None:
                _go(page, nav, "Overview")
                option = _typed(page, scope)  # typing into the picker is the user's time, not the app's
                rows.append((label, "choose the customer (Overview)", [server.visit(page, option.click)]))
            for title in PAGES:
                seconds = []
                for _ in range(args.visits):
                    _go(page, nav, "Billing" if title != "Billing" else "Overview")  # each visit comes from elsewhere
                    seconds.append(server.visit(page, lambda: nav.filter(has_text=title).first.click()))
                rows.append((label, title, seconds))
        memory = server.memory()
        browser.close()
    print(f"the server after the walk: {memory}; load average {started_load} at the start, {load_average()} "
          "at the end\n")
    print("| scope | page | " + " | ".join(f"visit {i + 1} (s) | server CPU (ms)" for i in range(args.visits)) + " |")
    print("|---|---|" + "---:|---:|" * args.visits)
    for scope, what, visits in rows:
        print(f"| {scope} | {what} | " + " | ".join(f"{s:.2f} | {cpu:,.0f}" for s, cpu in visits) + " |")


def _mb(field: str) -> str:
    return f"{int(field.split()[0]) / 1024:,.0f} MB"  # (/proc says kB)


def _go(page, nav, title: str) -> None:
    nav.filter(has_text=title).first.click()
    until_still(page, time.monotonic())


def _typed(page, customer_id: str):
    """The picker's option for a customer, typed into the sidebar's picker (the list is virtualised)."""
    box = page.get_by_role("combobox", name="Customer", exact=True)
    box.click()
    box.fill(customer_id)
    return page.get_by_role("option").filter(has_text=customer_id).first


if __name__ == "__main__":
    main()
