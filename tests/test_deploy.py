"""deploy/: the compose file and the load balancer it runs. The compose file cannot run here (no container
engine), so it is checked for what it must say; nginx runs for real, from Debian's package, with the compose
file's own template, in front of two `streamlit run app.py` replicas."""
import contextlib
import shutil
import string
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from browser import free_port, login, serve, settle, wait_until_up
from conftest import ROOT
from usage_analytics import config

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_compose_file_runs_postgresql_minio_two_replicas_and_a_sticky_balancer():
    found = compose()
    services = found["services"]
    assert {"postgres", "minio", "exports-bucket", "app1", "app2", "nginx"} <= set(services)
    for name in ("app1", "app2"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and env["USAGE_DATA_DIR"].startswith("s3://")
        assert env["CLOSE_DIR"].startswith("s3://") and env["AWS_ENDPOINT_URL"] == "http://minio:9000"
        known = {variable for variable, _, _ in config.describe()}
        assert {k for k in env if not k.startswith("AWS_")} <= known  # every setting is one the app reads
        assert any(v.endswith(":/state") for v in services[name]["volumes"])  # its own store file
    assert services["app1"]["volumes"] != services["app2"]["volumes"]
    balancer = services["nginx"]
    assert balancer["ports"] == ["127.0.0.1:8080:80"]
    template = (DEPLOY / "nginx.conf.template").read_text()
    assert {"APP1", "APP2"} == {m[1] or m[2] for m in string.Template.pattern.findall(template) if m[1] or m[2]
                                if (m[1] or m[2]).startswith("APP")}
    assert set(balancer["environment"]) >= {"APP1", "APP2"}
    assert "hash $remote_addr consistent" in template  # sticky WebSocket sessions
    secrets = [v for s in services.values() for v in (s.get("environment") or {}).values() if isinstance(v, str)]
    assert not any("change-me" in v for v in secrets)  # secrets come from deploy/.env, never the file
    assert "deploy/.env" in (ROOT / ".gitignore").read_text().splitlines()


def rendered(app1: str, app2: str, folder: Path, port: int) -> Path:
    """The compose file's nginx template as the nginx image renders it, in an nginx.conf of its own."""
    server = string.Template((DEPLOY / "nginx.conf.template").read_text()).safe_substitute(APP1=app1, APP2=app2)
    server = server.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (folder / "default.conf").write_text(server)
    main = folder / "nginx.conf"
    main.write_text(f"""daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/default.conf;
}}
""")
    return main


@contextlib.contextmanager
def balancer(app1: str, app2: str):
    folder = Path(tempfile.mkdtemp(prefix="nginx-"))
    port = free_port()
    main = rendered(app1, app2, folder, port)
    process = subprocess.Popen([NGINX, "-c", str(main), "-p", str(folder)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/lb/health", process, 20,
                      lambda: f"nginx did not start: {(folder / 'error.log').read_text()}")
        yield url
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_two_replicas_behind_the_balancer_serve_logins_and_never_the_metrics(chromium, tmp_path):
    state = tmp_path / "state"  # one STATE_DIR shared by both replicas on this host (SQLite)
    with serve({"STATE_DIR": str(state)}) as a, serve({"STATE_DIR": str(state)}) as b, \
            balancer(a.removeprefix("http://"), b.removeprefix("http://")) as url:
        assert status(f"{a}/_stcore/metrics") == 200  # Streamlit itself answers it to anyone…
        assert status(f"{url}/_stcore/metrics") == 404  # …never through the balancer
        assert status(f"{url}/_stcore/agent/openapi.json") == 404
        assert status(f"{url}/_stcore/health") == 200
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        try:
            page.goto(f"{url}/billing?period=2026-10")  # a bookmark through the balancer (WebSocket upgraded)
            login(page, "acme_admin")
            settle(page)
            page.wait_for_timeout(1000)
            settle(page)
            assert page.locator("h1").first.inner_text() == "Billing"
            assert "Acme Robotics" in page.locator('[data-testid="stMain"]').inner_text()
        finally:
            context.close()
