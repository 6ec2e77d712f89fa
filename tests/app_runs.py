"""Running app.py itself in AppTest: the first run, and the runs after it (a login, a logout)."""
from streamlit.testing.v1 import AppTest

from conftest import ROOT

APP = str(ROOT / "app.py")


def app() -> AppTest:
    """A new browser session's first run of app.py."""
    return AppTest.from_file(APP, default_timeout=90).run()


def rerun(at: AppTest, stay: bool = False) -> AppTest:
    """Run again from app.py: from "/" (AppTest puts every run back in pages-folder mode before app.py can leave
    it, where a page file's hash means the inert pages/ file), or with stay, on the app page the last run ended
    on (an st.Page's hash is its url path's), as the browser reruns the page in its address bar: "/" leads to
    the landing page by switch_page, which drops the widget values the run was given."""
    from streamlit.util import calc_hash  # noqa: PLC0415
    from usage_analytics import access  # noqa: PLC0415
    ours = {calc_hash(page_id) for page_id in access.PAGE_IDS}
    if not stay or at._finished_page_script_hash not in ours:
        at._finished_page_script_hash = ""
    return at.run()


def submit(at: AppTest, username: str, password: str) -> AppTest:
    """Fill in the login form and press Log in."""
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return rerun(at)
