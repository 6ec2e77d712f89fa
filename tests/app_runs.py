"""Running app.py itself in AppTest: the first run, and the runs after it (a login, a logout)."""
from streamlit.testing.v1 import AppTest

from conftest import ROOT

APP = str(ROOT / "app.py")


def app() -> AppTest:
    """A new browser session's first run of app.py."""
    return AppTest.from_file(APP, default_timeout=90).run()


def rerun(at: AppTest) -> AppTest:
    """Run again from app.py. AppTest asks the next run for the page the last one ended on, and AppTest puts
    every run back in pages-folder mode before app.py can leave it, where that page's hash means the inert
    pages/ file (the browser keeps the mode left, so there the page itself runs again)."""
    at._finished_page_script_hash = ""
    return at.run()


def submit(at: AppTest, username: str, password: str) -> AppTest:
    """Fill in the login form and press Log in."""
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return rerun(at)
