"""Real browser against `streamlit run app.py`: an auth.yaml in streamlit-authenticator's documented format
(cookie.expiry_days, first_name/last_name, failed_login_attempts, logged_in, pre-authorized, oauth2, api_key)
starts the app, a user logs in through the form, and the login lasts expiry_days (issue 17, point 1)."""
import os
import time

from browser import ROOT, login, serve, settle
from streamlit_authenticator.utilities.hasher import Hasher

ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "jsmith-demo-pass"
AUTH_YAML = """\
cookie:
  expiry_days: 30
  key: usage-analytics-demo-cookie-key-not-secret
  name: some_cookie_name
credentials:
  usernames:
    jsmith:
      email: jsmith@gmail.com
      failed_login_attempts: 0 # Will be managed automatically
      first_name: John
      last_name: Smith
      logged_in: False # Will be managed automatically
      password: {hash}
      roles: # Optional
      - operator
    rbriggs:
      email: rbriggs@gmail.com
      failed_login_attempts: 2
      first_name: Rebecca
      last_name: Briggs
      logged_in: True
      password: {hash}
      password_hint: the usual
      roles:
      - viewer
oauth2: # Optional
  google:
    client_id: dummy-client-id
    client_secret: dummy-client-secret
    redirect_uri: http://localhost:8501
  microsoft:
    client_id: dummy-client-id
    client_secret: dummy-client-secret
    redirect_uri: http://localhost:8501
    tenant_id: dummy-tenant
pre-authorized: # Optional
  emails:
  - melsby@gmail.com
api_key: # Optional
"""


def test_an_auth_yaml_in_the_library_format_with_expiry_days_logs_in_for_30_days(chromium, tmp_path):
    auth = tmp_path / "auth.yaml"
    auth.write_text(AUTH_YAML.format(hash=Hasher.hash(PASSWORD)))
    log = ARTIFACTS / "server-library-auth-yaml.log"
    env = {"AUTH_CONFIG": str(auth), "STATE_DIR": str(tmp_path / "state"), "DEMO_MODE": "1"}
    assert "AUTH_SESSION_HOURS" not in os.environ  # (expiry_days decides only while it is unset)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        with serve(env=env, log=log) as url:
            page.goto(url)
            login(page, "jsmith", PASSWORD)
            page.locator("h1", has_text="Overview").wait_for(timeout=60_000)
            settle(page)
            page.screenshot(path=ARTIFACTS / "library_auth_yaml_logged_in.png", full_page=True)
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert "Logged in as John Smith (jsmith)" in sidebar
            assert "misconfigured" not in page.locator("body").inner_text()
            [cookie] = [c for c in context.cookies() if c["name"] == "some_cookie_name"]
            assert abs(cookie["expires"] - (time.time() + 30 * 86400)) < 600  # the login lasts expiry_days
        server_log = log.read_text()
        assert server_log.count("ignored streamlit-authenticator keys the app does not use") == 1
        assert "dummy-client-secret" not in server_log and "the usual" not in server_log
    finally:
        context.close()
