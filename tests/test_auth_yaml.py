"""auth.yaml as streamlit-authenticator 0.4.2 documents and writes it (issue 17, point 1): every key the library
reads or writes loads; the keys the app does not use are named once in the server log (never their values);
cookie.expiry_days sets the session length unless AUTH_SESSION_HOURS is set; a user's display name comes from
first_name + last_name or name; and only a real error stops the app, in one line."""
import logging
import textwrap

import pytest
import yaml

from conftest import ROOT
from usage_analytics import config, credentials, sessions
from usage_analytics.config import ConfigError

KEY = "a-cookie-key-of-more-than-thirty-two-bytes-0123456789"
T0 = 1_800_000_000


def documented(**cookie) -> str:
    """The library's README config file (section 3), with bcrypt hashes in place of its plain-text passwords."""
    hashes = [_hash("abc"), _hash("def")]
    expiry = "\n".join(f"  {k}: {v}" for k, v in ({"expiry_days": 30} | cookie).items() if v is not ...)
    return textwrap.dedent("""\
        cookie:
        {expiry}
          key: {key}
          name: some_cookie_name
        credentials:
          usernames:
            jsmith:
              email: jsmith@gmail.com
              failed_login_attempts: 0 # Will be managed automatically
              first_name: John
              last_name: Smith
              logged_in: False # Will be managed automatically
              password: {h0}
              roles: # Optional
              - admin
              - editor
              - viewer
            rbriggs:
              email: rbriggs@gmail.com
              failed_login_attempts: 0 # Will be managed automatically
              first_name: Rebecca
              last_name: Briggs
              logged_in: False # Will be managed automatically
              password: {h1}
              roles: # Optional
              - viewer
        oauth2: # Optional
          google:
            client_id: google-client-id-value
            client_secret: google-client-secret-value
            redirect_uri: http://localhost:8501
          microsoft:
            client_id: ms-client-id-value
            client_secret: ms-client-secret-value
            redirect_uri: http://localhost:8501
            tenant_id: ms-tenant-value
        pre-authorized: # Optional
          emails:
          - melsby@gmail.com
        api_key: api-key-value
        """).replace("{expiry}\n", expiry + "\n" if expiry else "").format(key=KEY, h0=hashes[0], h1=hashes[1])


_HASHES: dict[str, str] = {}


def _hash(password: str) -> str:
    from streamlit_authenticator.utilities.hasher import Hasher

    if password not in _HASHES:
        _HASHES[password] = Hasher.hash(password)
    return _HASHES[password]


# -- whatever the library writes must load -----------------------------------------------------------
def test_an_auth_yaml_the_library_itself_wrote_loads_and_its_users_log_in(tmp_path, monkeypatch):
    """The library's own Authenticate on its README config (plain-text passwords, which it hashes): a failed
    and a good login (failed_login_attempts, logged_in), registering a pre-authorized user (password_hint; it
    writes pre-authorized back as a bare list), a changed last name, and an OAuth2 guest login (a user with
    no password, a picture) are all written back to the file by the library; the app then loads that file."""
    import streamlit_authenticator as stauth
    from streamlit_authenticator.models import authentication_model

    class Google:  # the provider's answer; the rest of guest_login is the library's
        def __init__(self, settings):
            assert settings["client_id"] == "google-client-id-value"

        def guest_login(self):
            return {"email": "Gail.Guest@example.com", "given_name": "Gail", "family_name": "Guest",
                    "picture": "https://example.com/gail.png"}

    class Cookie:
        def set_cookie(self):
            pass

    monkeypatch.setattr(authentication_model, "GoogleModel", Google)
    path = tmp_path / "auth.yaml"
    text = documented().replace(_hash("abc"), "abc").replace(_hash("def"), "def")  # as the README has it
    path.write_text(text)
    # (with api_key set the library fetches its e-mail server's address unless given one; nothing is sent)
    library = stauth.Authenticate(str(path), server_url="http://127.0.0.1:9").authentication_controller
    assert library.login("jsmith", "wrong") is False
    assert library.login("jsmith", "abc") is True
    assert library.register_user("Mel", "Elsby", "melsby@gmail.com", "melsby", "Secret#123x", "Secret#123x",
                                 password_hint="the usual", roles=["viewer"]) == ("melsby@gmail.com", "melsby",
                                                                                  "Mel Elsby")
    assert library.update_user_details("rbriggs", "last_name", "Briggs-Smith") is True
    assert library.guest_login(Cookie(), provider="google") is None

    written = yaml.safe_load(path.read_text())
    users = written["credentials"]["usernames"]
    assert users["jsmith"]["logged_in"] is True and users["jsmith"]["failed_login_attempts"] == 0
    assert users["melsby"]["password_hint"] == "the usual" and written["pre-authorized"] == []
    assert "password" not in users["gail.guest@example.com"]  # the library's guest user

    auth = credentials.parse(path.read_text(), str(path))
    assert credentials.check(auth, "jsmith", "abc") == auth.users["jsmith"]
    assert credentials.check(auth, "rbriggs", "def") == auth.users["rbriggs"]
    assert credentials.check(auth, "melsby", "Secret#123x") == auth.users["melsby"]
    assert credentials.check(auth, "jsmith", "def") is None
    assert {u.username: (u.name, u.roles) for u in auth.users.values()} == {
        "jsmith": ("John Smith", ("admin", "editor", "viewer")),
        "rbriggs": ("Rebecca Briggs-Smith", ("viewer",)),
        "melsby": ("Mel Elsby", ("viewer",)),
    }
    assert auth.guests == 1 and "gail.guest@example.com" not in auth.users  # no password: no login here
    assert auth.expiry_hours == 720 and auth.cookie_name == "some_cookie_name"
    assert auth.ignored == ("api_key", "credentials.usernames.*.email",
                            "credentials.usernames.*.failed_login_attempts", "credentials.usernames.*.logged_in",
                            "credentials.usernames.*.password_hint", "credentials.usernames.*.picture", "oauth2",
                            "pre-authorized")
    assert auth.unknown == ()


def test_the_documented_format_loads_as_written(tmp_path):
    auth = credentials.parse(documented(), "auth.yaml")
    assert sorted(auth.users) == ["jsmith", "rbriggs"] and auth.users["jsmith"].name == "John Smith"
    assert auth.ignored == ("api_key", "credentials.usernames.*.email",
                            "credentials.usernames.*.failed_login_attempts", "credentials.usernames.*.logged_in",
                            "oauth2", "pre-authorized")


def test_the_bundled_auth_yaml_loads_as_before():
    auth = credentials.parse((ROOT / "auth.yaml").read_text(), "auth.yaml")
    assert auth.users["ops"].name == "Olive Operator" and auth.users["acme_admin"].customer_id == "cus_acme_robotics"
    assert auth.expiry_hours is None and auth.ignored == ("credentials.usernames.*.email",) and not auth.unknown


# -- the session length -----------------------------------------------------------------------------
def test_expiry_days_30_makes_a_720_hour_session_when_auth_session_hours_is_not_set():
    auth, settings = credentials.parse(documented(), "auth.yaml"), config.load({})
    assert not settings.session_hours_set and credentials.session_hours(auth, settings) == 720
    session = sessions.issue(auth, "jsmith", credentials.session_hours(auth, settings), now=T0)
    assert session.expires_at == T0 + 30 * 86400


def test_auth_session_hours_wins_over_expiry_days():
    auth, settings = credentials.parse(documented(), "auth.yaml"), config.load({"AUTH_SESSION_HOURS": "2"})
    assert settings.session_hours_set and credentials.session_hours(auth, settings) == 2


@pytest.mark.parametrize("expiry, hours, ignored", [
    (..., 8, False),  # no expiry_days: 8 hours
    (0, 8, True),  # the library's "no re-login cookie": not a session length, so named as ignored
    ("", 8, True),  # (an empty value)
    (0.5, 12, False),
])
def test_without_a_usable_expiry_days_a_login_lasts_eight_hours(expiry, hours, ignored):
    auth = credentials.parse(documented(expiry_days=expiry), "auth.yaml")
    assert credentials.session_hours(auth, config.load({})) == hours
    assert ("cookie.expiry_days" in auth.ignored) is ignored


@pytest.mark.parametrize("expiry", ["thirty", -1, ".inf", "true", 3651])
def test_an_expiry_days_that_is_not_a_number_of_days_is_a_one_line_error(expiry):
    with pytest.raises(ConfigError) as error:
        credentials.parse(documented(expiry_days=expiry), "auth.yaml")
    assert str(error.value) == "auth.yaml: cookie.expiry_days must be a number of days from 0 to 3650"


# -- the display name -------------------------------------------------------------------------------
@pytest.mark.parametrize("fields, name", [
    ("first_name: John\n      last_name: Smith", "John Smith"),
    ("first_name: John", "John"),
    ("last_name: Smith", "Smith"),
    ("name: Johnny S", "Johnny S"),
    ("name: Johnny S\n      first_name: John\n      last_name: Smith", "John Smith"),  # the library's order
    ("name: Johnny S\n      first_name: null\n      last_name: null", "Johnny S"),  # as update_user_details writes
    ("first_name: ''\n      last_name: ' '", "jsmith"),
    ("email: j@example.com", "jsmith"),
])
def test_the_display_name_comes_from_first_and_last_name_or_name_else_the_username(fields, name):
    text = f"cookie:\n  key: {KEY}\ncredentials:\n  usernames:\n    jsmith:\n      {fields}\n" \
           f"      password: {_hash('abc')}\n"
    assert credentials.parse(text, "auth.yaml").users["jsmith"].name == name


# -- the one log line -------------------------------------------------------------------------------
def test_the_ignored_keys_are_logged_once_per_content_by_name_never_with_their_values(tmp_path, caplog):
    path = tmp_path / "auth.yaml"
    text = documented().replace("      roles: # Optional\n      - viewer\n",
                                "      roles: # Optional\n      - viewer\n      password_hint: my-hint-value\n"
                                "      rolse: typo-value\n")
    path.write_text(text)
    settings = config.load({"AUTH_CONFIG": str(path)})
    caplog.set_level(logging.INFO, logger="usage_analytics")
    for _ in range(3):
        credentials.load(settings)
    [record] = [r for r in caplog.records if r.name == "usage_analytics"]
    line = record.getMessage()
    assert "\n" not in line and record.levelno == logging.WARNING
    assert line == (f"{path}: ignored streamlit-authenticator keys the app does not use: api_key, "
                    "credentials.usernames.*.email, credentials.usernames.*.failed_login_attempts, "
                    "credentials.usernames.*.logged_in, credentials.usernames.*.password_hint, oauth2, "
                    "pre-authorized; ignored keys unknown to the app and to streamlit-authenticator: "
                    "credentials.usernames.*.rolse")
    for value in ("my-hint-value", "typo-value", "secret-value", "client-id-value", "tenant-value", "api-key-value",
                  "melsby@gmail.com", "jsmith", "rbriggs", "$2b$", KEY):
        assert value not in line
    path.write_text(text + "# edited\n")  # another content: said again, once
    credentials.load(settings)
    credentials.load(settings)
    assert len([r for r in caplog.records if r.name == "usage_analytics"]) == 2


def test_a_guest_user_is_counted_never_named_in_the_log_line(tmp_path, caplog):
    path = tmp_path / "auth.yaml"
    guest = ("    gail.guest@example.com:\n      email: gail.guest@example.com\n      first_name: Gail\n"
             "      logged_in: true\n      picture: https://example.com/gail.png\n      roles: null\n")
    path.write_text(documented().replace("oauth2:", guest + "oauth2:", 1))
    caplog.set_level(logging.INFO, logger="usage_analytics")
    auth = credentials.load(config.load({"AUTH_CONFIG": str(path)}))
    assert auth.guests == 1 and "gail.guest@example.com" not in auth.users
    [record] = [r for r in caplog.records if r.name == "usage_analytics"]
    assert "1 user(s) without a password (the library's OAuth2 guests) cannot log in" in record.getMessage()
    assert "gail" not in record.getMessage()


def test_a_file_with_only_keys_the_app_reads_logs_nothing(tmp_path, caplog):
    path = tmp_path / "auth.yaml"
    path.write_text(f"cookie:\n  name: c\n  key: {KEY}\n  expiry_days: 1\ncredentials:\n  usernames:\n"
                    f"    a:\n      name: A\n      password: {_hash('abc')}\n      roles: [operator]\n")
    caplog.set_level(logging.INFO, logger="usage_analytics")
    credentials.load(config.load({"AUTH_CONFIG": str(path)}))
    assert not [r for r in caplog.records if r.name == "usage_analytics"]


# -- only a real error stops the app, in one line ---------------------------------------------------
@pytest.mark.parametrize("change, message", [
    (lambda t: t.split("credentials:")[0], "auth.yaml: needs credentials.usernames with at least one user"),
    (lambda t: t.split("    jsmith:")[0].replace("usernames:", "usernames: {}"),
     "auth.yaml: needs credentials.usernames with at least one user"),
    (lambda t: t.replace(_hash("abc"), "abc"),
     "auth.yaml: user 'jsmith': password must be a bcrypt hash (make one with: python -m usage_analytics "
     "hash-password)"),
    (lambda t: t.replace(f"password: {_hash('abc')}", "password: null"),
     "auth.yaml: user 'jsmith': password must be a bcrypt hash (make one with: python -m usage_analytics "
     "hash-password)"),
    (lambda t: t.replace(f"      password: {_hash('abc')}\n", ""), "auth.yaml: user 'jsmith': needs a password"),
    (lambda t: t.replace("    jsmith:\n      email: jsmith@gmail.com", "    jsmith@gmail.com:\n      email: jsmith@gmail.com")
     .replace("    rbriggs:\n      email: rbriggs@gmail.com", "    rbriggs@gmail.com:\n      email: rbriggs@gmail.com")
     .replace(f"      password: {_hash('abc')}\n", "").replace(f"      password: {_hash('def')}\n", ""),
     "auth.yaml: needs credentials.usernames with at least one user who has a password"),  # only guests
])
def test_a_real_error_is_one_line_naming_the_problem(change, message):
    with pytest.raises(ConfigError) as error:
        credentials.parse(change(documented()), "auth.yaml")
    assert str(error.value) == message and "\n" not in message


def test_a_cookie_key_too_short_stops_the_app_outside_demo_mode_only():
    auth = credentials.parse(documented().replace(KEY, "short-key"), "auth.yaml")
    problem = credentials.key_problem(auth, config.load({}))
    assert problem.startswith("The login cookie key is 9 bytes long; it needs 32.") and "\n" not in problem
    assert credentials.key_problem(auth, config.load({"DEMO_MODE": "1"})) is None
