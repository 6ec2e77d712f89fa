"""The README's commands are the ones CI runs, and its configuration table lists every setting."""
import re

from conftest import ROOT
from usage_analytics import config


def _commands():
    return re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), re.DOTALL)


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _commands()[1]
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test_command


def test_the_first_command_installs_and_starts_the_app_on_the_bundled_sample():
    first = _commands()[0]
    assert first == "python -m pip install -r requirements.txt && DEMO_MODE=1 python -m streamlit run app.py"


def test_readme_configuration_table_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    for variable, _, _ in config.describe():
        assert f"| `{variable}` |" in readme
