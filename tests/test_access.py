"""docs/product.md §2 stated a second time, written out, so a change to the policy table nobody meant fails here."""
import pytest

from usage_analytics import access, credentials
from usage_analytics.access import User
from usage_analytics.config import ConfigError

from conftest import ROOT

PAGES = ["overview", "runtime", "managed-ai", "reconciliation", "billing", "handoff", "close", "operators",
         "data-health", "access-log"]
# who -> the pages they may open, in navigation order.
MATRIX = {
    "operator":        ["overview", "runtime", "managed-ai", "reconciliation", "billing", "handoff", "close",
                        "operators", "data-health", "access-log"],
    "customer_admin":  ["overview", "runtime", "managed-ai", "reconciliation", "billing"],
    "customer_member": [],
    "auditor":         [],  # an unknown role
    "no role":         [],
    "anonymous":       [],  # not logged in: no User at all
}
CUSTOMERS = {"cus_acme_robotics", "cus_northwind_traders"}


def user(role, customer_id=None):
    if role == "anonymous":
        return None
    return User("u", "U", (role,) if role and role != "no role" else (), customer_id)


# who -> the data-level actions they may take (access.Action), stated a second time beside the page matrix.
ACTION_MATRIX = {
    "operator":        ["see provider project IDs", "see unlinked providers' metered usage",
                        "see file paths and dataset internals in messages", "open the access log",
                        "see each day's metered and provider cost",
                        "read the attention queue in the platform's words"],
    "customer_admin":  [],
    "customer_member": [],
    "auditor":         [],
    "no role":         [],
    "anonymous":       [],
}


@pytest.mark.parametrize("role", list(ACTION_MATRIX))
@pytest.mark.parametrize("action", list(access.Action), ids=lambda a: a.name)
def test_role_by_action_matrix(role, action):
    assert access.can(user(role, "cus_acme_robotics"), action) is (action.value in ACTION_MATRIX[role])


def test_the_action_table_covers_exactly_the_written_out_actions():
    assert [a.value for a in access.ACTIONS] == ACTION_MATRIX["operator"] == [a.value for a in access.Action]
    assert not access.can(user("operator"), "see provider project IDs")  # a string is no action: refused


def test_no_page_or_frame_code_tests_a_role_directly():
    """Roles are read by the access policy only; pages and the frame ask can() or can_view()."""
    import re

    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "usage_analytics").glob("*.py"), ROOT / "app.py"]:
        if path.name != "access.py":
            text = path.read_text()
            assert not re.search(r"\.roles\b|is_operator|\b(OPERATOR|CUSTOMER_ADMIN|CUSTOMER_MEMBER)\b", text), path.name


def test_the_policy_table_covers_exactly_the_pages_of_spec_section_3():
    assert list(access.PAGE_IDS) == PAGES


@pytest.mark.parametrize("role", list(MATRIX))
@pytest.mark.parametrize("page", PAGES)
def test_role_by_page_matrix(role, page):
    assert access.can_view(user(role, "cus_acme_robotics"), page) is (page in MATRIX[role])


@pytest.mark.parametrize("page", PAGES + ["health", "", "../operators"])
def test_anonymous_sees_no_page_and_unknown_pages_are_closed_to_all(page):
    assert not access.can_view(None, page)
    assert access.can_view(user("operator"), page) is (page in PAGES)


@pytest.mark.parametrize("role", list(MATRIX))
def test_pages_for_follows_the_matrix(role):
    assert [p.id for p in access.pages_for(user(role, "cus_acme_robotics"))] == MATRIX[role]


def test_an_operator_chooses_any_customer_or_all():
    decision = access.check(user("operator"), CUSTOMERS)
    assert decision.allowed and decision.scope.customer_id is None and not decision.scope.is_fixed
    assert access.can(user("operator"), access.Action.SEE_PROVIDER_PROJECTS)


def test_a_customer_admin_is_fixed_to_the_customer_in_auth_yaml():
    decision = access.check(user("customer_admin", "cus_acme_robotics"), CUSTOMERS)
    assert decision.allowed and decision.scope.customer_id == "cus_acme_robotics" and decision.scope.is_fixed
    assert [p.id for p in decision.pages] == MATRIX["customer_admin"]
    assert not access.can(user("customer_admin", "cus_acme_robotics"), access.Action.SEE_PROVIDER_PROJECTS)


def test_operator_and_admin_roles_together_act_as_operator():
    both = User("u", "U", ("customer_admin", "operator"), "cus_acme_robotics")
    assert access.check(both, CUSTOMERS).scope.customer_id is None


@pytest.mark.parametrize("who, says", [
    (user("customer_member", "cus_acme_robotics"), "customer member"),
    (user(None), "roles: none"),
    (user("auditor"), "roles: auditor"),
    (user("customer_admin"), "not bound to a customer"),
    (user("customer_admin", "cus_gone_away"), "'cus_gone_away', which is not in the usage data"),
])
def test_denials_say_who_can_view_or_what_to_do(who, says):
    decision = access.check(who, CUSTOMERS)
    assert not decision.allowed and decision.pages == () and decision.scope is None
    assert says in decision.message
    assert "operator" in decision.message  # who to ask


def test_an_admin_is_denied_when_the_customers_dataset_cannot_be_read():
    decision = access.check(user("customer_admin", "cus_acme_robotics"), None)
    assert not decision.allowed and "cannot be read" in decision.message
    assert access.check(user("operator"), None).allowed  # operators still get in and see why


def test_the_bundled_auth_yaml_has_the_demo_users_of_the_readme():
    config = credentials.parse((ROOT / "auth.yaml").read_text(), "auth.yaml")
    assert config.demo_key
    users = {name: (u.roles, u.customer_id) for name, u in config.users.items()}
    assert users == {
        "ops": (("operator",), None),
        "finance": (("operator",), None),
        "acme_admin": (("customer_admin",), "cus_acme_robotics"),
        "northwind_admin": (("customer_admin",), "cus_northwind_traders"),
        "acme_member": (("customer_member",), "cus_acme_robotics"),
        "ghost_admin": (("customer_admin",), "cus_gone_away"),
        "visitor": ((), None),
    }
    readme = (ROOT / "README.md").read_text()
    for name in users:
        assert f"`{name}`" in readme, f"README does not list demo user {name}"


def test_the_cookie_key_from_the_environment_wins_over_auth_yaml():
    config = credentials.parse((ROOT / "auth.yaml").read_text(), "auth.yaml", cookie_key="k" * 40)
    assert config.cookie_key == "k" * 40 and not config.demo_key


HASH = "$2b$12$xlQE.FehAMWQbtwgQspXpe4O/aEKovKd224rOb.SydTSDujAVr0Fe"


@pytest.mark.parametrize("text, message", [
    ("credentials: {usernames: {}}", "at least one user"),
    ("credentials: {usernames: {a: {name: A}}}", "user 'a': needs a password"),
    ("credentials: {usernames: {a: {password: plain-text}}}", "must be a bcrypt hash"),
    (f"credentials: {{usernames: {{a: {{password: '{HASH}', roles: 7}}}}}}", "roles must be a list"),
    (f"credentials: {{usernames: {{a: {{password: '{HASH}', customer_id: [1]}}}}}}", "customer_id must be text"),
    (f"credentials: {{usernames: {{a: {{password: '{HASH}'}}}}}}", "no cookie key"),
    ("credentials: [unclosed", "not valid YAML"),
])
def test_a_bad_auth_yaml_is_refused_with_the_user_and_field_named(text, message):
    with pytest.raises(ConfigError, match=message):
        credentials.parse(text, "auth.yaml")


def test_hash_password_prints_a_hash_that_logs_in_and_the_file_accepts():
    import subprocess
    import sys

    import bcrypt

    done = subprocess.run([sys.executable, "-m", "usage_analytics", "hash-password"], input="s3cret-pass\n",
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    hashed = done.stdout.strip()
    assert done.returncode == 0 and bcrypt.checkpw(b"s3cret-pass", hashed.encode())
    text = f"cookie: {{key: k}}\ncredentials: {{usernames: {{a: {{password: '{hashed}'}}}}}}"
    assert credentials.parse(text, "auth.yaml").users["a"].roles == ()
    short = subprocess.run([sys.executable, "-m", "usage_analytics", "hash-password"], input="short\n",
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    long = subprocess.run([sys.executable, "-m", "usage_analytics", "hash-password"], input="é" * 40 + "\n",
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert long.returncode == 2 and "at most 72 bytes" in long.stderr  # 80 bytes in UTF-8
