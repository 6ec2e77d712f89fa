"""Exports and month-close revisions in an S3-compatible bucket (issue 18), against a real endpoint: moto in
server mode (s3_server.py), started for the session and stopped at the end.

The bundled sample in a bucket gives the very figures and check report the local folder gives; the fingerprint
moves with an object added or replaced and not otherwise; a new object is added by the incremental refresh; a
truncated object is named and left out; a bucket that cannot be reached leaves the last store serving, saying
it may be stale; a close into a bucket writes the manifest last, and verify reads it; and the command line
runs on USAGE_DATA_DIR=s3://…"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, usage
from s3_server import CREDENTIALS, Endpoint, free_port, s3_endpoint, upload  # noqa: F401
from usage_analytics import build, closing, config, focus, handoff, objects, revisions, state_db, validation
from usage_analytics.periods import Period
from usage_analytics.sample import write_dataset

SAMPLE = ROOT / "data"
NOW = config.sample_now(SAMPLE)
PERIODS = ("2026-10", "2026-11", "2026-09-01..2026-11-24")


@pytest.fixture
def s3(s3_endpoint, monkeypatch):  # noqa: F811
    """The AWS_* variables of the session's endpoint, in this process, and a fresh filesystem for them."""
    _point_at(s3_endpoint, monkeypatch)
    yield s3_endpoint
    _forget()


def _point_at(endpoint: Endpoint, monkeypatch) -> None:
    for name, value in endpoint.env().items():
        monkeypatch.setenv(name, value)
    _forget()


def _forget() -> None:
    objects.reset()
    build._unreachable.clear()


_BUCKETS = iter(range(1_000_000))


def bucket_with(endpoint: Endpoint, folder: Path) -> str:
    """folder uploaded under a prefix of its own: s3://exports/<n>/data."""
    return upload(endpoint, folder, "exports", f"{next(_BUCKETS)}/data")


def period(text: str) -> Period:
    return Period.parse(text)


def packs(store) -> dict[str, str]:
    """Every sample customer's pack for a few periods, as `handoff` prints it (JSON and CSV)."""
    found = {}
    for label in PERIODS:
        for cid, pack in closing.packs(store, period(label), NOW).items():
            found[f"{label} {cid}"] = handoff.to_json(pack) + handoff.to_csv(pack)
    return found


def named_alike(reports, where: str) -> str:
    """The reports as JSON, their folder written as DIR."""
    return json.dumps({k: r.to_json() for k, r in reports.items()}, sort_keys=True).replace(where, "DIR")


@pytest.fixture(scope="module")
def local_sample(tmp_path_factory):
    store = build.build(SAMPLE, NOW, tmp_path_factory.mktemp("local-store"))
    yield store
    store.close()


def test_the_sample_in_a_bucket_gives_the_same_figures_and_report_as_the_local_folder(s3, tmp_path, local_sample):
    where = bucket_with(s3, SAMPLE)
    store = build.build(where, NOW, tmp_path / "store")
    try:
        assert store.made == "built" and store.database.parent == tmp_path / "store"
        assert packs(store) == packs(local_sample)
        assert named_alike(store.reports, where) == named_alike(local_sample.reports, str(SAMPLE.resolve()))
        assert all(f.startswith(where + "/") for r in store.reports.values() for f in r.files)
        lines = validation.report_lines(store.reports, NOW, 36)
        assert lines == validation.report_lines(local_sample.reports, NOW, 36)
        opened = build.build(where, NOW, tmp_path / "store")  # the same state: opened, not built
        assert opened.made == "" and opened.database == store.database
        opened.close()
    finally:
        store.close()
    # (a whole bucket works too: s3://bucket)
    whole = upload(s3, SAMPLE, "whole-bucket", "x").rsplit("/", 1)[0]
    assert build.fingerprint(whole) not in (build.UNREACHABLE, build.fingerprint(where))


def test_the_fingerprint_moves_with_an_object_added_or_replaced_and_not_otherwise(s3):
    where = bucket_with(s3, SAMPLE)
    bucket, prefix = where.removeprefix("s3://").split("/", 1)
    client = s3.client()
    first = build.fingerprint(where)
    assert first == build.fingerprint(where) and len(first) == 16
    client.put_object(Bucket=bucket, Key=f"{prefix}/sample.json", Body=(SAMPLE / "sample.json").read_bytes())
    assert build.fingerprint(where) == first  # the same bytes again: same size and ETag
    client.put_object(Bucket=bucket, Key=f"{prefix.rsplit('/', 1)[0]}/elsewhere.txt", Body=b"x")
    assert build.fingerprint(where) == first  # beside the prefix, not under it
    replaced = (SAMPLE / "sample.json").read_bytes().replace(b'"seed": 7', b'"seed": 8')
    client.put_object(Bucket=bucket, Key=f"{prefix}/sample.json", Body=replaced)  # same size, new ETag
    second = build.fingerprint(where)
    assert second != first
    client.put_object(Bucket=bucket, Key=f"{prefix}/ai_usage/month=2026-11/part-1.parquet", Body=b"PAR1")
    assert build.fingerprint(where) not in (first, second)


def test_a_new_object_is_added_by_the_incremental_refresh(s3, tmp_path):
    where = bucket_with(s3, SAMPLE)
    store = build.build(where, NOW, tmp_path / "store")
    before = store.reports["ai_usage"].rows_kept
    store.close()
    late = write_dataset(tmp_path / "late", "ai_usage", [usage("2026-11-23 10:00", customer="cus_late", cost="7.000000")],
                         part="month=2026-11/part-1")
    bucket, prefix = where.removeprefix("s3://").split("/", 1)
    s3.client().upload_file(str(late), bucket, f"{prefix}/ai_usage/month=2026-11/part-1.parquet")
    messages = []
    refreshed = build.build(where, NOW, tmp_path / "store", messages.append)
    try:
        assert refreshed.made == "refreshed"
        assert "adding 1 new file of ai_usage (4/6)" in messages
        assert any(m.startswith("downloading 1 object ") for m in messages)  # only the new one
        report = refreshed.reports["ai_usage"]
        assert report.rows_kept == before + 1 and report.files[-1] == f"{where}/ai_usage/month=2026-11/part-1.parquet"
        # as a full build of the same files in a local folder
        folder = tmp_path / "copy"
        shutil.copytree(SAMPLE, folder)
        shutil.copy(late, folder / "ai_usage" / "month=2026-11" / "part-1.parquet")
        full = build.build(folder, NOW, tmp_path / "local-store")
        assert full.made == "built"
        assert named_alike(refreshed.reports, where) == named_alike(full.reports, str(folder))
        assert packs(refreshed) == packs(full)
        full.close()
        # the store's signatures are the objects' sizes and ETags: nothing more to do
        again = build.build(where, NOW, tmp_path / "store")
        assert again.made == "" and again.database == refreshed.database
        again.close()
    finally:
        refreshed.close()


def test_a_truncated_object_is_named_and_left_out_as_a_corrupt_file_is(s3, tmp_path):
    folder = tmp_path / "exports"
    shutil.copytree(SAMPLE, folder)
    whole = (folder / "ai_usage" / "month=2026-10" / "part-0.parquet").read_bytes()
    (folder / "ai_usage" / "month=2026-10" / "part-0.parquet").write_bytes(whole[: len(whole) // 2])
    where = bucket_with(s3, folder)
    store = build.build(where, NOW, tmp_path / "store")
    local = build.build(folder, NOW, tmp_path / "local-store")
    try:
        bad = store.reports["ai_usage"].bad_files
        assert [file for file, _ in bad] == [f"{where}/ai_usage/month=2026-10/part-0.parquet"]
        assert bad[0][1].startswith("not readable parquet (")
        assert str(tmp_path / "store") not in json.dumps(bad)  # the object is named, never the local copy
        assert store.reports["ai_usage"].status == "degraded"
        assert named_alike(store.reports, where) == named_alike(local.reports, str(folder))
        assert f"dataset ai_usage: file {where}/ai_usage/month=2026-10/part-0.parquet was not read: not readable " \
               "parquet (" in "\n".join(store.reports["ai_usage"].warnings())
    finally:
        store.close()
        local.close()


@pytest.fixture
def own_endpoint(monkeypatch):
    """An endpoint of this test's own, to stop while the session's keeps serving the others."""
    endpoint = Endpoint(free_port())
    endpoint.start()
    _point_at(endpoint, monkeypatch)
    yield endpoint
    endpoint.stop()
    _forget()


def test_a_bucket_that_cannot_be_reached_leaves_the_last_store_serving_with_a_stale_warning(own_endpoint, tmp_path):
    where = bucket_with(own_endpoint, SAMPLE)
    store = build.build(where, NOW, tmp_path / "store")
    figures = packs(store)
    store.close()
    own_endpoint.stop()
    assert build.fingerprint(where) == build.UNREACHABLE
    assert build.ready(where, NOW, tmp_path / "store")  # (a store to serve: opened at once)
    served = build.build(where, NOW, tmp_path / "store")
    try:
        assert packs(served) == figures
        warnings = validation.stale(served.reports, NOW, 36)
        assert len(warnings) == 1 and warnings[0].startswith(
            f"the exports at {where} cannot be reached (EndpointConnectionError): these figures are from the store "
            "checked at ") and warnings[0].endswith("UTC, and may be stale")
        text = "\n".join(validation.report_lines(served.reports, NOW, 36))
        assert warnings[0] in text
        assert not any(secret in text for secret in CREDENTIALS.values()) and own_endpoint.url not in text
    finally:
        served.close()
    # the command line says the same, and exits 0 as for stale exports (check && handoff still runs)
    env = {**os.environ, **own_endpoint.env(), "USAGE_DATA_DIR": where, "STATE_DIR": str(tmp_path),
           "ANALYTICS_NOW": NOW.isoformat()}
    checked = subprocess.run([sys.executable, "-m", "usage_analytics", "check"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert f"  - the exports at {where} cannot be reached (EndpointConnectionError)" in checked.stdout
    # …but a month is never closed from a store that may be stale
    closed = subprocess.run([sys.executable, "-m", "usage_analytics", "close", "--period", "2026-10"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert closed.returncode == 2 and closed.stdout == "", closed.stderr
    assert "2026-10 cannot be closed now: the exports cannot be reached" in closed.stderr
    assert not (tmp_path / "close").exists() or not list((tmp_path / "close").rglob("manifest.json"))
    # never built and unreachable: every dataset unusable, saying why
    empty = build.build(where, NOW, tmp_path / "other-store")
    try:
        assert empty.reports["customers"].unusable == \
            f"folder {where}/customers cannot be read (EndpointConnectionError)"
    finally:
        empty.close()


def test_a_close_into_a_bucket_writes_every_file_then_the_manifest_and_verify_reads_it(s3, tmp_path, monkeypatch,
                                                                                      local_sample):
    where = bucket_with(s3, SAMPLE)
    close_dir = f"s3://closes/{next(_BUCKETS)}"
    s3.client().create_bucket(Bucket="closes")
    found = revisions.Revisions(close_dir, state_db.StateDB(tmp_path / "state"))
    store = build.build(where, NOW, tmp_path / "store")
    month = period("2026-10")
    figures = closing.figures_of(store, month, NOW)
    scope = closing.Scope(month, {cid: handoff.pack(s) for cid, s in figures.items()}, True, closing.cutoff(store.reports),
                          build.fingerprint(where), "test", focus.charges(figures),
                          "Workspaces Platform")
    store.close()

    # interrupted after the files: they are in the bucket, no manifest, and no revision for any reader
    written = []
    write = objects.ObjectPath.write_bytes

    def interrupted(self, data, exclusive=False):
        if self.name == revisions.MANIFEST:
            raise OSError("interrupted before the manifest")
        written.append(self.name)
        return write(self, data, exclusive)

    monkeypatch.setattr(objects.ObjectPath, "write_bytes", interrupted)
    with pytest.raises(OSError, match="interrupted before the manifest"):
        closing.close(found, scope, NOW)
    monkeypatch.setattr(objects.ObjectPath, "write_bytes", write)
    folder = objects.ObjectPath(f"{close_dir}/2026-10/revision-0001")
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert len(written) == len(names) > 80 and revisions.MANIFEST not in names
    assert found.all() == []
    found._adopt("2026-10")  # a folder without its manifest is no revision
    assert found.all() == []

    # the close again: the leftovers replaced, every file, then the manifest last
    latest, new, _ = closing.close(found, scope, NOW)
    assert new and latest.revision == 1 and latest.folder == folder
    listed = {str(p.relative_to(folder)): p.stat() for p in folder.rglob("*")}
    manifest = json.loads(latest.manifest_path.read_bytes())
    assert sorted(listed) == sorted([revisions.MANIFEST] + [f["path"] for f in manifest["files"]])
    assert max(i.st_mtime_ns for n, i in listed.items() if n != revisions.MANIFEST) <= listed[revisions.MANIFEST].st_mtime_ns
    assert revisions.verify(latest.manifest_path, latest.manifest_sha256) == []
    assert revisions.verify(str(latest.manifest_path)) == []
    cid = sorted(figures)[0]
    assert latest.file(closing.pack_file(cid, "json")) == handoff.to_json(scope.packs[cid]).encode()
    with pytest.raises(FileNotFoundError):
        latest.file("../../2026-09/revision-0001/manifest.json")
    assert len(zipfile.ZipFile(io.BytesIO(latest.zip())).namelist()) == len(listed)

    # a changed object is found
    bucket, key = str(latest.folder / manifest["files"][0]["path"]).removeprefix("s3://").split("/", 1)
    s3.client().put_object(Bucket=bucket, Key=key, Body=b"changed")
    assert revisions.verify(latest.manifest_path, latest.manifest_sha256) == [f"{manifest['files'][0]['path']}: changed"]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "usage_analytics", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_the_command_line_on_a_bucket(s3, tmp_path):
    where = bucket_with(s3, SAMPLE)
    s3.client().create_bucket(Bucket="cli-closes")
    remote = {**s3.env(), "USAGE_DATA_DIR": where, "STATE_DIR": str(tmp_path / "s3"), "ANALYTICS_NOW": NOW.isoformat(),
              "CLOSE_DIR": f"s3://cli-closes/{next(_BUCKETS)}"}
    local = {"USAGE_DATA_DIR": str(SAMPLE), "STATE_DIR": str(tmp_path / "local"), "ANALYTICS_NOW": NOW.isoformat()}
    for args in (("handoff", "--customer", "cus_acme_robotics", "--period", "2026-10"),
                 ("handoff", "--all", "--period", "2026-11", "--format", "csv")):
        from_bucket, from_folder = cli(remote, *args), cli(local, *args)
        assert from_bucket.returncode == 0, from_bucket.stderr
        assert from_bucket.stdout == from_folder.stdout and len(from_bucket.stdout) > 500
    checked = cli(remote, "check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[1:] == cli(local, "check").stdout.splitlines()[1:]
    # without ANALYTICS_NOW, the sample's own 'now' is read from the bucket as from a folder
    unpinned = cli({k: v for k, v in remote.items() if k != "ANALYTICS_NOW"}, "check")
    assert unpinned.returncode == 0, unpinned.stderr
    assert unpinned.stdout.splitlines()[0] == f"checked {where} (now: {NOW:%Y-%m-%d %H:%M} UTC, from sample)"
    closed = cli(remote, "close", "--period", "2026-10")
    assert closed.returncode == 0, closed.stderr
    manifest = closed.stdout.splitlines()[-1]
    assert manifest == f"{remote['CLOSE_DIR']}/2026-10/revision-0001/manifest.json"
    verified = cli(remote, "verify", manifest)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip() == f"ok: every file of {manifest} matches"
    as_closed = cli(remote, "handoff", "--customer", "cus_acme_robotics", "--period", "2026-10", "--as-closed")
    assert as_closed.returncode == 0 and json.loads(as_closed.stdout)["close"] is None  # (recorded before the close)


def test_the_app_keeps_serving_the_last_store_of_a_bucket_it_cannot_reach_and_says_so(own_endpoint, tmp_path,
                                                                                      monkeypatch):
    from test_app import OPERATOR, page

    where = bucket_with(own_endpoint, SAMPLE)
    monkeypatch.setenv("USAGE_DATA_DIR", where)
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    monkeypatch.setenv("ANALYTICS_NOW", NOW.isoformat())
    before = page(OPERATOR, "operators")
    assert not before.exception and not [w for w in before.warning if "cannot be reached" in w.value]
    own_endpoint.stop()
    after = page(OPERATOR, "operators")
    assert not after.exception
    warned = [w.value for w in after.warning if "cannot be reached" in w.value]
    assert len(warned) == 1 and warned[0].startswith(f"the exports at {where} cannot be reached")
    assert [m.value for m in after.metric] == [m.value for m in before.metric] and after.metric
    assert [d.value.shape for d in after.dataframe] == [d.value.shape for d in before.dataframe]
