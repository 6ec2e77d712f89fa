"""Restated months and the queue at scale (issue 16's performance part): a restatement compares only what
closing.compared reads, made without the look ahead; each closed month's result is kept per revision and
exports, so a rerun reads it; a revision's files are read by a safe name; the page's queue is kept with its
figures. Each says what it must keep the same, not only that it is faster."""
import json
from datetime import datetime, timezone

import pytest

from conftest import ROOT, at, customer, link, recon, usage
from usage_analytics import attention, caches, closing, config, frames, handoff, revisions, summary
from usage_analytics.build import build
from usage_analytics.__main__ import main
from usage_analytics.areas import Area
from usage_analytics.periods import Period
from usage_analytics.revisions import Revision

SAMPLE_NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)  # the bundled sample's own 'now'


@pytest.mark.parametrize("label", ["2026-10", "2026-11"])  # a closed month, and the open one
def test_the_compared_figures_are_the_packs_compared_parts_for_every_sample_customer(sample_store, label):
    period = Period.parse(label)
    full = summary.summaries(sample_store, period, SAMPLE_NOW)
    lean = summary.summaries(sample_store, period, SAMPLE_NOW, ahead=False)
    assert full.keys() == lean.keys() and len(full) == 40
    for cid, item in full.items():
        pack, figures = handoff.pack(item), handoff.compared_figures(lean[cid])
        assert closing.compared(figures) == closing.compared(pack), cid
        assert figures["customer"] == pack["customer"], cid
        assert closing.difference(pack, figures) is None, cid


def test_figures_without_the_look_ahead_run_no_outlook_query_and_estimate_nothing(sample_store, monkeypatch):
    asked = []
    real = summary.submit
    monkeypatch.setattr(summary, "submit", lambda store, name, window, fetch=None: asked.append(name) or real(
        store, name, window, fetch))
    found = summary.summaries(sample_store, Period.parse("2026-11"), SAMPLE_NOW, ahead=False)
    assert not {"outlook", "outlook_since"} & set(asked) and "runtime_totals" in asked
    prepaid = [s for s in found.values() if s.billing.billing_mode == "prepaid"]
    assert prepaid and all(s.balances is None for s in prepaid)  # no balance from usage that was not read
    assert all(s.gaps == {Area.AHEAD: summary.NOT_ASKED} for s in found.values())
    assert all(s.projected("ai_cost_usd") is None for s in found.values())


def test_a_revision_reads_only_names_inside_its_folder(tmp_path):
    folder = tmp_path / "close" / "2026-02" / "revision-0001"
    (folder / "packs").mkdir(parents=True)
    (folder / "packs" / "cus_a.json").write_text("{}")
    (tmp_path / "close" / "secret.txt").write_text("no")
    revision = Revision("2026-02", 1, "2026-03-01T00:00:00Z", "cli", folder, "0" * 64)
    assert revision.file("packs/cus_a.json") == b"{}"
    assert revision.file(closing.pack_file("cus_a", "json")) == b"{}"
    for name in ("../../secret.txt", "packs/../../../secret.txt", str(tmp_path / "close" / "secret.txt"), "",
                 "packs//cus_a.json", ".hidden", "packs/cus_a.json\n"):
        with pytest.raises(FileNotFoundError):
            revision.file(name)
    with pytest.raises(FileNotFoundError):  # a safe name that is not there is not there
        revision.file("packs/cus_b.json")


ROWS = dict(customers=[customer("cus_a", "A")],
            billing_accounts=[{"customer_id": "cus_a", "as_of": at("2026-01-01 00:00"), "billing_mode": "paid",
                               "payment_verified": True}],
            provider_links=[link("openai")], ai_usage=[usage("2026-02-10 10:00", cost="5")],
            reconciliation=[recon("2026-02-10", "matched")])
LATE = {**ROWS, "ai_usage": ROWS["ai_usage"] + [usage("2026-02-11 10:00", cost="1.25")],
        "reconciliation": ROWS["reconciliation"] + [recon("2026-02-11", "matched")]}
RESTATED = [{"kind": "restated", "next_action": "review",
             "detail": "2026-02: figures changed since revision 1 (managed AI +1.250000 USD)"}]


@pytest.fixture
def state(tmp_path_factory):
    """STATE_DIR, outside the exports' folder (whose every file is in the exports' fingerprint)."""
    return tmp_path_factory.mktemp("state")


@pytest.fixture
def closed_february(exports, tmp_path, state, monkeypatch):
    """February closed with $5, then a late $1.25 row for it: the queue says restated. Returns the calls of
    summaries made without the look ahead (a restatement's figures), as (period label, customer scope)."""
    exports(**ROWS)
    monkeypatch.setenv("USAGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANALYTICS_NOW", "2026-03-20T12:00:00Z")
    monkeypatch.setenv("STATE_DIR", str(state))
    assert main(["close", "--period", "2026-02"]) == 0
    exports(**LATE)
    made = []
    real = summary.summaries
    monkeypatch.setattr(summary, "summaries", lambda store, period, now, customer_id=None, **k: (
        made.append((period.label, customer_id)) if k.get("ahead") is False else None) or real(
        store, period, now, customer_id, **k))
    return made


def test_the_command_keeps_each_closed_months_result_and_a_rerun_reads_it(closed_february, exports, state, capsys):
    capsys.readouterr()
    assert main(["attention"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["reasons"] == RESTATED
    assert closed_february == [("2026-02", None)]  # February's figures, once
    kept = [path for path in (state / "restated").glob("2026-02-*.json") if "-closed-" not in path.name]
    # the close compared February with its own store and kept that nothing moved; this run, the late row
    assert sorted(json.loads(path.read_text()) for path in kept) == [[], [["cus_a", "managed AI +1.250000 USD"]]]
    [closed_side] = (state / "restated").glob("2026-02-closed-*.json")  # revision 1's packs, as compared
    assert set(json.loads(closed_side.read_text())) == {"cus_a"}
    assert main(["attention"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["reasons"] == RESTATED  # the same queue…
    assert closed_february == [("2026-02", None)]  # …without February's figures again
    assert main(["close", "--period", "2026-02"]) == 0  # revision 2 holds the late row: nothing moved since
    capsys.readouterr()
    assert len(list((state / "restated").glob("2026-02-closed-*.json"))) == 2  # kept by the close itself
    assert main(["attention"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert closed_february == [("2026-02", None)] * 2  # a new revision: made again
    exports(**{**LATE, "ai_usage": LATE["ai_usage"] + [usage("2026-02-12 10:00", cost="2")],
               "reconciliation": LATE["reconciliation"] + [recon("2026-02-12", "matched")]})
    assert main(["attention"]) == 0  # new exports: made again
    assert json.loads(capsys.readouterr().out)[0]["reasons"][0]["detail"] == (
        "2026-02: figures changed since revision 2 (managed AI +2.000000 USD)")
    assert closed_february == [("2026-02", None)] * 3
    for kept in (state / "restated").iterdir():  # where nothing can be kept: made each time, never an error
        kept.unlink()
    (state / "restated").rmdir()
    (state / "restated").write_text("not a folder")
    for _ in range(2):
        assert main(["attention"]) == 0
        assert json.loads(capsys.readouterr().out)[0]["reasons"][0]["detail"].endswith("(managed AI +2.000000 USD)")
    assert closed_february == [("2026-02", None)] * 5


def test_the_restatements_command_says_the_same_without_whole_packs(closed_february, capsys):
    capsys.readouterr()
    assert main(["restatements", "--period", "2026-02", "--format", "json"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert [(c["customer_id"], c["managed_ai_cost_usd"], c["runtime_hours"]) for c in report["customers"]] == [
        ("cus_a", {"closed": "5.000000", "now": "6.250000", "delta": "1.250000"},
         {"closed": 0.0, "now": 0.0, "delta": 0.0})]
    assert closed_february == [("2026-02", None)]  # made without the look ahead


def test_the_pages_queue_is_kept_with_its_figures(closed_february, monkeypatch, tmp_path):
    settings = config.load()
    source = caches.source(settings)
    moment = caches.now(settings)
    made = []
    real = attention.queue
    monkeypatch.setattr(attention, "queue", lambda *a, **k: made.append(1) or real(*a, **k))
    first = caches.queue(source, None, moment, settings)
    again = caches.queue(source, None, moment, settings)
    assert [e.reasons[0].detail for e in first] == [RESTATED[0]["detail"]]
    assert again == first and again is not first and len(made) == 1  # a rerun: looked up, not made again
    assert closed_february == [("2026-02", None)]
    assert [e.customer_id for e in caches.queue(source, "cus_a", moment, settings)] == ["cus_a"]  # another scope
    assert len(made) == 2
    later = caches.queue(source, None, moment.replace(minute=1), settings)  # the next minute's figures
    assert later == first and len(made) == 3
    assert closed_february == [("2026-02", None), ("2026-02", "cus_a")]  # February is not made again for it
    assert main(["close", "--period", "2026-02"]) == 0  # a new revision changes the queue's key
    assert caches.queue(source, None, moment, settings) == [] and len(made) == 4


def test_a_build_by_the_app_compares_the_closed_months_for_the_command_and_the_page(closed_february, state, capsys):
    """The app's first load after new exports builds the store, then compares the closed months on a thread of its
    own: the `attention` command and the Operators page's queue read that result instead of making February's
    figures themselves."""
    settings = config.load()
    source = caches.source(settings)
    assert not caches.build.ready(settings.data_dir, settings.now(), settings.store_dir)
    caches._prepare(settings, source)  # (what the first page after the late row does)
    caches._PRIMING[source].join(timeout=60)
    assert closed_february == [("2026-02", None)]  # made once, on the thread
    kept = [path for path in (state / "restated").glob("2026-02-*.json") if "-closed-" not in path.name]
    assert [["cus_a", "managed AI +1.250000 USD"]] in [json.loads(path.read_text()) for path in kept]
    capsys.readouterr()
    assert main(["attention"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["reasons"] == RESTATED
    entries = caches.queue(source, None, caches.now(settings), settings)
    assert [e.reasons[0].detail for e in entries] == [RESTATED[0]["detail"]]
    assert closed_february == [("2026-02", None)]  # neither made them again


def test_a_build_with_no_closed_month_starts_no_comparison(exports, tmp_path, state, monkeypatch):
    exports(**ROWS)
    for name, value in (("USAGE_DATA_DIR", tmp_path), ("ANALYTICS_NOW", "2026-03-20T12:00:00Z"), ("STATE_DIR", state)):
        monkeypatch.setenv(name, str(value))
    settings = config.load()
    source = caches.source(settings)
    caches._prepare(settings, source)
    assert caches._PRIMING[source] is None and not (state / "restated").exists()


def test_a_kept_result_names_everything_it_is_made_from(tmp_path):
    revision = Revision("2026-02", 1, "2026-03-01T00:00:00Z", "cli", tmp_path, "a" * 64)
    kept = attention.Kept(tmp_path / "kept", "inputs", at("2026-03-20 12:00"))
    assert kept.get(revision) is None
    kept.put(revision, [("cus_a", "managed AI +1.000000 USD")])
    assert kept.get(revision) == [("cus_a", "managed AI +1.000000 USD")]
    assert attention.Kept(tmp_path / "kept", "inputs", at("2026-03-25 00:00")).get(revision) is not None  # ended
    for other in (attention.Kept(tmp_path / "kept", "other inputs", at("2026-03-20 12:00")),
                  attention.Kept(tmp_path / "kept", "inputs", at("2026-02-20 12:00"))):  # before the month's end
        assert other.get(revision) is None
    assert kept.get(Revision("2026-02", 2, "2026-03-02T00:00:00Z", "cli", tmp_path, "b" * 64)) is None
    next(iter((tmp_path / "kept").glob("*.json"))).write_text("not json")
    assert kept.get(revision) is None


def test_a_revisions_packs_are_kept_as_compared_and_read_instead_of_every_pack(closed_february, state, monkeypatch):
    """The close of every customer keeps its packs as a restatement reads them; the comparison then reads that
    one file, not each pack, and says the same; a kept file that cannot be read is made again from the packs."""
    settings = config.load()
    revs = revisions.for_settings(settings)
    [latest] = revs.all()
    [kept_file] = (state / "restated").glob("2026-02-closed-*.json")  # written by the close
    pack = json.loads(latest.file(closing.pack_file("cus_a", "json")))
    assert json.loads(kept_file.read_text()) == {"cus_a": closing.as_compared(pack)}
    assert closing.closed_figures(latest) == {"cus_a": closing.as_compared(pack)}
    assert closing.compared(closing.as_compared(pack)) == closing.compared(pack)
    store = build(settings.data_dir, settings.now(), settings.store_dir)
    try:
        now = {cid: handoff.compared_figures(item) for cid, item in
               closing.figures_of(store, Period.parse("2026-02"), settings.now(), ahead=False).items()}
    finally:
        store.close()
    read = []
    real_file = Revision.file
    monkeypatch.setattr(Revision, "file", lambda self, name: read.append(name) or real_file(self, name))
    kept = attention.Kept(state / "restated", "inputs", at("2026-03-20 12:00"))
    with_kept = closing.restatements(revs, Period.parse("2026-02"), now, latest, kept.closed(latest))
    assert read == []  # the one kept file, no pack
    assert with_kept == closing.restatements(revs, Period.parse("2026-02"), now, latest)  # the same report
    assert read == ["packs/cus_a.json"]
    assert [c["managed_ai_cost_usd"]["delta"] for c in with_kept["customers"]] == ["1.250000"]
    kept_file.write_text("not json")
    assert kept.closed(latest) == {"cus_a": closing.as_compared(pack)}  # made again from the packs
    assert json.loads(kept_file.read_text()) == {"cus_a": closing.as_compared(pack)}


@pytest.mark.parametrize("moment", [SAMPLE_NOW, datetime(2026, 10, 31, 23, tzinfo=timezone.utc),
                                    datetime(2026, 7, 2, 9, tzinfo=timezone.utc)])
def test_the_queue_from_figures_without_runtime_is_the_queue_from_whole_figures(sample_store, moment):
    """The `attention` command makes its month's figures without the period's runtime, which no reason reads:
    the queue is the same, reason for reason, as from the figures every page shows; and figures made so say it."""
    month = attention.month_of(moment)
    whole = attention.queue(summary.summaries(sample_store, month, moment))
    lean = summary.summaries(sample_store, month, moment, runtime=False)
    assert attention.queue(lean) == whole and whole  # (the sample has customers needing attention in each)
    assert all(s.gaps == {Area.RUNTIME: summary.RUNTIME_NOT_ASKED} for s in lean.values())
    assert all(s.runtime_hours == 0 for s in lean.values())  # (what the gap is there to say)


def test_figures_without_runtime_run_no_runtime_query(sample_store, monkeypatch):
    asked = []
    real = summary.submit
    monkeypatch.setattr(summary, "submit", lambda store, name, window, fetch=None: asked.append(name) or real(
        store, name, window, fetch))
    summary.summaries(sample_store, Period.parse("2026-11"), SAMPLE_NOW, runtime=False)
    assert "runtime_totals" not in asked and {"reconciliation_summary", "billing_snapshot", "outlook"} <= set(asked)
    asked.clear()
    summary.summaries(sample_store, Period.parse("2026-11"), SAMPLE_NOW, "cus_acme_robotics", runtime=False)
    assert "runtime_by_workspace_day" not in asked and "ai_usage_by_day" in asked  # (one customer's days)


def test_ingest_compares_the_closed_months_so_the_commands_first_run_reads_them(closed_february, state, capsys,
                                                                                monkeypatch):
    """After new exports, `ingest` (the build an operator schedules) compares every closed month with the new
    store and keeps it: the attention command's first run then makes no closed month's figures."""
    capsys.readouterr()
    assert main(["ingest"]) == 0
    assert "1 closed month compared with the exports and kept for the attention queue" in capsys.readouterr().err
    assert closed_february == [("2026-02", None)]  # made by ingest
    assert main(["attention"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["reasons"] == RESTATED
    assert closed_february == [("2026-02", None)]  # read as kept: not made again
    monkeypatch.setattr(attention, "restated", lambda *a: (_ for _ in ()).throw(OSError("state is read-only")))
    assert main(["ingest"]) == 0  # a comparison that cannot be made never fails the build
    assert "the closed months were not compared with the exports now (state is read-only)" in capsys.readouterr().err


def test_the_pages_figures_of_two_periods_at_one_moment_run_the_look_ahead_once(tmp_path, monkeypatch):
    """The outlook and the billing snapshot read no period: the app keeps their rows for every period's figures
    of the same scope and moment (an operator going from month to month makes them once), and the figures are
    those made without the cache."""
    monkeypatch.setenv("USAGE_DATA_DIR", str(ROOT / "data"))
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    settings = config.load()
    source = caches.source(settings)
    moment = datetime(2026, 11, 24, 11, 59, tzinfo=timezone.utc)  # (a minute no other test asks for)
    asked = []
    real = frames.rows
    monkeypatch.setattr(frames, "rows", lambda store, name, window: asked.append(name) or real(store, name, window))
    for label in ("2026-11", "2026-10", "2026-09"):
        found = caches.summaries(source, None, Period.parse(label), moment, settings)
        alone = summary.summaries(caches.store(source), Period.parse(label), moment, strict=False,
                                  fresh_hours=settings.export_max_age_hours, low_days=settings.low_balance_days)
        assert {cid: handoff.pack(s) for cid, s in found.items()} == {cid: handoff.pack(s) for cid, s in alone.items()}
    # three periods through the caches and three alone: the cached ones asked for the outlook once
    assert asked.count("outlook") == 1 + 3 and asked.count("billing_snapshot") == 1 + 3
    assert asked.count("reconciliation_summary") == 3 + 3  # (a query of the period: once per period)
    caches.summaries(source, "cus_acme_robotics", Period.parse("2026-11"), moment, settings)
    assert asked.count("outlook") == 5  # another scope: its own
