"""Settings from the environment, and periods."""
from datetime import date, datetime, timedelta, timezone

from pathlib import Path

import pytest

from usage_analytics import config
from usage_analytics.periods import Period, PeriodError

UTC = timezone.utc


def test_defaults_point_at_the_project_and_pin_now_to_the_bundled_sample():
    settings = config.load({})
    assert settings.data_dir == config.PROJECT_ROOT / "data"
    assert settings.auth_config == config.PROJECT_ROOT / "auth.yaml"
    assert settings.auth_cookie_key is None
    assert (settings.now(), settings.now_source) == (datetime(2026, 11, 24, 12, tzinfo=UTC), "sample")


def test_analytics_now_wins_over_the_sample_and_naive_means_utc():
    settings = config.load({"ANALYTICS_NOW": "2026-03-01T08:30:00"})
    assert (settings.now(), settings.now_source) == (datetime(2026, 3, 1, 8, 30, tzinfo=UTC), "ANALYTICS_NOW")
    assert config.load({"ANALYTICS_NOW": "2026-03-01T10:30:00+02:00"}).now() == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def test_real_exports_use_the_clock(tmp_path):
    settings = config.load({"USAGE_DATA_DIR": str(tmp_path), "AUTH_COOKIE_KEY": "k" * 40})
    assert (settings.data_dir, settings.now_source, settings.auth_cookie_key) == (tmp_path, "clock", "k" * 40)
    assert abs((settings.now() - datetime.now(UTC)).total_seconds()) < 5


def test_a_bad_analytics_now_names_the_variable():
    with pytest.raises(config.ConfigError, match="ANALYTICS_NOW: 'yesterday' is not an ISO timestamp"):
        config.load({"ANALYTICS_NOW": "yesterday"})


def test_every_setting_has_a_variable_help_and_default():
    assert [v for v, _, _ in config.describe()] == ["USAGE_DATA_DIR", "AUTH_CONFIG", "AUTH_COOKIE_KEY", "ANALYTICS_NOW",
                                                    "EXPORT_MAX_AGE_HOURS", "LOW_BALANCE_DAYS", "ONBOARDING_STALL_DAYS",
                                                    "STATE_DIR", "CLOSE_DIR", "PLATFORM_NAME",
                                                    "DEMO_MODE",
                                                    "AUTH_SESSION_HOURS", "AUTH_THROTTLE_WINDOW_MINUTES",
                                                    "AUDIT_RETENTION_DAYS", "DATABASE_URL"]
    assert all(help_text for _, help_text, _ in config.describe())


@pytest.mark.parametrize("value", ["soon", "0", "-3"])
def test_a_bad_export_age_names_the_variable(value):
    with pytest.raises(config.ConfigError, match=f"EXPORT_MAX_AGE_HOURS: '{value}' is not a positive number"):
        config.load({"EXPORT_MAX_AGE_HOURS": value})
    assert config.load({"EXPORT_MAX_AGE_HOURS": "12.5"}).export_max_age_hours == 12.5


@pytest.mark.parametrize("text, first, last, label", [
    ("2026-10", date(2026, 10, 1), date(2026, 10, 31), "2026-10"),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31), "2026-12"),
    ("2026-10-05..2026-10-05", date(2026, 10, 5), date(2026, 10, 5), "2026-10-05..2026-10-05"),
    (" 2026-10-01..2026-10-31 ", date(2026, 10, 1), date(2026, 10, 31), "2026-10"),
])
def test_periods_parse(text, first, last, label):
    period = Period.parse(text)
    assert (period.first_day, period.last_day, period.label) == (first, last, label)
    assert period.end - period.start == timedelta(days=(last - first).days + 1)


def test_period_bounds_and_previous():
    october = Period.parse("2026-10")
    assert (october.start, october.end) == (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert october.previous() == Period(date(2026, 8, 31), date(2026, 9, 30))
    assert not october.has_ended(datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    assert october.has_ended(datetime(2026, 11, 1, tzinfo=UTC))


@pytest.mark.parametrize("text", ["2026-13", "2026/10", "Oct 2026", "2026-10-05..2026-10-01", "2026-02-30..2026-03-01", ""])
def test_malformed_periods_are_refused(text):
    with pytest.raises(PeriodError):
        Period.parse(text)


def test_security_settings_default_to_safe_values_and_name_a_bad_one():
    settings = config.load({})
    assert (settings.demo_mode, settings.session_hours, settings.throttle_window_minutes,
            settings.audit_retention_days, settings.state_dir) == (False, 8, 15, 400, config.PROJECT_ROOT / "state")
    assert config.load({"DEMO_MODE": "1"}).demo_mode and not config.load({"DEMO_MODE": "0"}).demo_mode
    with pytest.raises(config.ConfigError, match="DEMO_MODE: 'maybe' is neither 1 nor 0"):
        config.load({"DEMO_MODE": "maybe"})
    with pytest.raises(config.ConfigError, match="AUTH_SESSION_HOURS: '-1' is not a positive number of hours"):
        config.load({"AUTH_SESSION_HOURS": "-1"})
    with pytest.raises(config.ConfigError, match="AUDIT_RETENTION_DAYS: 'inf' is not a positive number of days"):
        config.load({"AUDIT_RETENTION_DAYS": "inf"})


def test_closes_go_to_close_dir_or_under_state_dir_and_the_platform_name_has_a_default(tmp_path):
    assert config.load({"STATE_DIR": str(tmp_path)}).closes_dir == tmp_path / "close"
    assert config.load({"STATE_DIR": str(tmp_path), "CLOSE_DIR": "/srv/closes"}).closes_dir == Path("/srv/closes")
    assert config.load({}).platform_name == "Workspaces Platform"
    assert config.load({"PLATFORM_NAME": "  Acme Cloud "}).platform_name == "Acme Cloud"
