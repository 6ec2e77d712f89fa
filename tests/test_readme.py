"""The README's commands are the ones CI runs, its first command starts the demo from a fresh clone, its links
stay in the repository, and its configuration table lists every setting."""
import ipaddress
import os
import random
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
from browser import login, settle
from conftest import ROOT
from usage_analytics import config

START = "DEMO_MODE=1 .venv/bin/python -m streamlit run app.py --server.address 127.0.0.1"


def _readme():
    return (ROOT / "README.md").read_text()


def _commands():
    return re.findall(r"```bash\n(.*?)\n```", _readme(), re.DOTALL)


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _commands()[1]
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test_command


def test_the_first_command_installs_and_starts_the_app_on_the_bundled_sample():
    first = _commands()[0]
    assert first == f"scripts/setup && {START}"


def test_starting_again_later_is_the_first_command_without_the_setup():
    # (a ```sh block, so that the test command stays the README's second ```bash block)
    run_it = _readme().split("## Run it (first command)")[1].split("\n## ")[0]
    assert re.findall(r"```sh\n(.*?)\n```", run_it, re.DOTALL) == [START]


def _listening(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses of every socket listening on TCP `port` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as lines:
            next(lines)
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                    continue
                raw = bytes.fromhex(address)  # 32-bit words in host (little-endian) order
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.append(ipaddress.ip_address(raw))
    return found


def _quiet_port() -> int:
    """A free port below the kernel's ephemeral range (32768 up): it stays free while the venv is made."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def _wait_until_healthy(url: str, process: subprocess.Popen, log, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200 and response.read() == b"ok":
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.flush()
            tail = open(log.name, errors="replace").read()[-4000:]
            raise AssertionError(f"the first command did not start the app (exit {process.poll()}):\n{tail}")
        time.sleep(0.5)


@pytest.fixture
def clone(tmp_path):
    """A scratch clone of the repository's committed HEAD, removed afterwards (its .venv is about 600 MB)."""
    folder = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(folder)], check=True)
    yield folder
    # Deleting its 15,000 files took 30-40 s here: an rm of its own does it while the suite goes on.
    subprocess.Popen(["rm", "-rf", str(folder)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)


def test_the_first_command_in_a_fresh_clone_starts_the_demo_on_loopback_only(clone, tmp_path, chromium):
    """Slow: 60-90 s here, most of it making the clone's .venv and installing requirements.txt into it
    (pip's cache is not kept on these machines, so every run downloads them again)."""
    port = _quiet_port()
    # As a newcomer's shell has it: none of the app's settings (conftest sets DEMO_MODE and STATE_DIR), no
    # Streamlit settings and no active venv; the port is Streamlit's own variable, so the command is unchanged.
    ours = {variable for variable, _, _ in config.describe()} | {"VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith("STREAMLIT_")}
    env["STREAMLIT_SERVER_PORT"] = str(port)
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "first-command.log", "wb") as log:
        process = subprocess.Popen(["bash", "-c", _commands()[0]], cwd=clone, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_until_healthy(url, process, log, timeout=600)  # a venv and requirements.txt from PyPI first
            with urllib.request.urlopen(f"{url}/", timeout=10) as response:
                assert response.status == 200
                page = response.read().decode()
            assert "<title>Streamlit</title>" in page and '<div id="root">' in page

            addresses = _listening(port)
            assert addresses and all(a.is_loopback for a in addresses), addresses

            # The demo answers: its public demo login works and shows the bundled sample's customer.
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})
            try:
                browser_page = context.new_page()
                browser_page.goto(url)
                login(browser_page, "acme_admin")
                browser_page.locator("h1", has_text="Overview").wait_for(timeout=120_000)
                settle(browser_page)
                assert "Acme Robotics" in browser_page.locator("body").inner_text()
            finally:
                context.close()
        finally:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
    assert (clone / ".venv" / "bin" / "python").exists()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == ""  # the venv and the app's state leave the clone clean


def _links(text: str) -> list[str]:
    """Every link target: markdown links and references, HTML href/src, <...> autolinks, bare http(s) URLs."""
    targets = re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text)
    targets += re.findall(r"^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)", text, re.MULTILINE)
    targets += re.findall(r"(?:href|src)=[\"']([^\"']+)", text)
    targets += re.findall(r"<(https?://[^>]+)>", text)
    targets += re.findall(r"(?<![(<])\bhttps?://[^\s)>`]+", text)
    return targets


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_no_link_in_the_readme_leaves_the_repository():
    readme = _readme()
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", readme, re.MULTILINE)}
    links = _links(readme)
    assert links  # (the parsing finds the README's own links)
    for target in links:
        parsed = urllib.parse.urlparse(target)
        if parsed.scheme:
            assert parsed.scheme in ("http", "https") and parsed.hostname in ("127.0.0.1", "localhost"), target
            continue
        assert not parsed.netloc, target
        if parsed.path:
            path = (ROOT / urllib.parse.unquote(parsed.path)).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), target
        else:
            assert parsed.fragment in anchors, target


def test_readme_configuration_table_lists_every_setting():
    readme = _readme()
    for variable, _, _ in config.describe():
        assert f"| `{variable}` |" in readme
