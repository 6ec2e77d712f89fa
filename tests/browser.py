"""Helpers for the real-browser tests: `streamlit run app.py` on localhost and Debian's Chromium."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this closed network refuses.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
PASSWORDS = {"ops": "ops-demo-pass", "finance": "finance-demo-pass", "acme_admin": "acme-demo-pass",
             "northwind_admin": "northwind-demo-pass", "acme_member": "member-demo-pass",
             "ghost_admin": "ghost-demo-pass", "visitor": "visitor-demo-pass"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(health: str, process: subprocess.Popen, seconds: float, why: Callable[[], str]) -> None:
    """Poll a server's health URL until it answers 200; RuntimeError(why()) when its process ends first or the
    time is up."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(why())
        time.sleep(0.2)


@contextlib.contextmanager
def serve(env: dict[str, str] | None = None, log: Path | None = None):
    """A fresh `streamlit run app.py` on a free localhost port; yields its base URL."""
    port = free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/_stcore/health", process, 60,
                      lambda: f"streamlit did not start (exit {process.poll()})")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            out.close()


def login(page, username: str, password: str | None = None) -> None:
    """Log in through the real form and wait for the app to answer."""
    page.get_by_label("Username").wait_for(timeout=30_000)
    settle(page)  # the first session after a server start reruns its first run; fill the form after that
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password or PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()


# The app root's own run state (what Streamlit's e2e tests wait on): the status widget appears only after a
# delay, so its absence alone can be read in the middle of a long run.
IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'
        && !document.querySelector('[data-testid="stStatusWidget"]');
}"""


def settle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished its run: connected, its script not running, no status widget."""
    page.wait_for_timeout(300)  # a click's rerun request reaches the app root's state after the click returns
    page.wait_for_function(IDLE, timeout=timeout)
    page.wait_for_timeout(300)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox (a combobox in this Streamlit) and wait for the rerun."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option)  # long lists are virtualised: filter first, then the option is on screen
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(500)
    settle(page)
