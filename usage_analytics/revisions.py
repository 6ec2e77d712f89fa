"""Where month-close revisions live: files under CLOSE_DIR, one folder per revision, and an index of them in
the state database. Append-only: a revision is written under a temporary name and renamed into place, so a
crash leaves no half revision, and neither its files nor its index row are ever changed or removed."""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

from . import objects, state_db
from .config import Settings
from .objects import ObjectPath
from .state_db import StateStore

MANIFEST = "manifest.json"
# A revision's file names as closing writes them (packs/<customer id or its hash>.<format>, focus.csv): parts
# of letters, digits, '.', '_' and '-' that never start with '.', joined by '/'.
FILE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127})*")


@dataclass(frozen=True)
class Revision:
    period: str  # YYYY-MM
    revision: int
    closed_at: str
    closed_by: str
    folder: Path  # (an objects.ObjectPath when CLOSE_DIR is a bucket)
    manifest_sha256: str

    def __post_init__(self) -> None:  # the index holds the folder as text: s3://… names an ObjectPath
        object.__setattr__(self, "folder", objects.location(self.folder))

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def manifest(self) -> dict:
        return json.loads(self.manifest_path.read_text())

    @cached_property
    def _resolved(self) -> Path:
        """The revision's folder, resolved once (a restatement reads thousands of its files)."""
        return self.folder.resolve()

    def file(self, name: str) -> bytes:
        """One of the revision's files, as written (e.g. packs/cus_x.json). Only a name as the app makes them
        (FILE_NAME: no part is '.', '..' or empty, no other characters) is read, so a name never leads out of
        the revision's folder; the folder is resolved once, not every file's path."""
        if not FILE_NAME.fullmatch(name):
            raise FileNotFoundError(f"{name} is not a file of this revision")
        return (self._resolved / name).read_bytes()

    def zip(self) -> bytes:
        """The whole revision as one ZIP: every pack and the manifest, under <period>-revision-N/ (made when asked:
        the Month close page hands this method to its download button, so no ZIP is built on a rerun)."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
                name = f"{self.period}-{self.folder.name}/{path.relative_to(self.folder)}"
                if isinstance(path, ObjectPath):
                    archive.writestr(name, path.read_bytes())
                else:
                    archive.write(path, name)
        return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _folder_name(revision: int) -> str:
    return f"revision-{revision:04d}"


class Revisions:
    """The revisions of every closed month, by period."""

    def __init__(self, close_dir: Path, db: StateStore):
        self.close_dir = objects.location(close_dir)  # a folder, or s3://bucket/prefix
        self.db = db

    def all(self, period: str | None = None) -> list[Revision]:
        """Every revision (of one period), oldest first."""
        sql = "select period, revision, closed_at, closed_by, folder, manifest_sha256 from month_closes"
        with self.db.reader() as db:
            rows = db.execute(sql + " order by period, revision").fetchall() if period is None else \
                db.execute(sql + " where period = ? order by revision", (period,)).fetchall()
        return [Revision(p, r, at, by, Path(folder), digest) for p, r, at, by, folder, digest in rows]

    def latest(self, period: str) -> Revision | None:
        found = self.all(period)
        return found[-1] if found else None

    @contextmanager
    def _locked(self, period: str) -> Iterator[None]:
        """One close of a period at a time, across threads and processes (a lock file beside its revisions), and
        across replicas when the state is in PostgreSQL (the state's exclusive(): an advisory lock there)."""
        folder = self.close_dir / period
        try:
            lock = open(_lock_file(folder), "w")
        except OSError as error:  # one clear line: which folder, and why (e.g. a read-only STATE_DIR)
            raise OSError(f"the month-close folder {folder} cannot be written ({error.strerror})") from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with self.db.exclusive(f"month close {period}"):
                    yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def record(self, period: str, make: Callable[[Revision | None, int], tuple[dict[str, bytes], dict] | None]
               ) -> tuple[Revision | None, bool]:
        """Record the next revision of a period, if make wants one.

        Under the period's lock, make(latest, next number) returns the files (name -> bytes) and the
        manifest's fields, or None to record nothing. Returns (the latest revision, whether it is new)."""
        with self._locked(period):
            self._adopt(period)
            latest = self.latest(period)
            number = latest.revision + 1 if latest else 1
            made = make(latest, number)
            if made is None:
                return latest, False
            files, fields = made
            return self._write(period, number, files, fields), True

    def _write(self, period: str, number: int, files: dict[str, bytes], fields: dict) -> Revision:
        final = self.close_dir / period / _folder_name(number)
        listed = [{"path": name, "bytes": len(data), "sha256": sha256(data)} for name, data in sorted(files.items())]
        manifest = (json.dumps({**fields, "files": listed}, indent=2) + "\n").encode()
        if isinstance(final, ObjectPath):
            _write_objects(final, files, manifest)
        else:
            building = final.with_name(f".{final.name}.{os.getpid()}.building")
            shutil.rmtree(building, ignore_errors=True)
            for name, data in sorted(files.items()):
                path = building / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            (building / MANIFEST).write_bytes(manifest)
            os.replace(building, final)  # the whole revision appears at once, or none of it
        revision = Revision(period, number, fields["closed_at"], fields["closed_by"], final, sha256(manifest))
        self._index(revision)
        return revision

    def _index(self, revision: Revision) -> None:
        with self.db.transaction() as db:
            db.execute("insert into month_closes values (?, ?, ?, ?, ?, ?)",
                       (revision.period, revision.revision, revision.closed_at, revision.closed_by,
                        str(revision.folder), revision.manifest_sha256))

    def _adopt(self, period: str) -> None:
        """A revision folder written whole but not indexed (the process ended between the two) is indexed."""
        known = {r.revision for r in self.all(period)}
        for folder in sorted((self.close_dir / period).glob("revision-*")):
            number = int(folder.name.split("-")[1])
            if number not in known and (folder / MANIFEST).is_file() and not verify(folder / MANIFEST):
                data = (folder / MANIFEST).read_bytes()
                fields = json.loads(data)
                self._index(Revision(period, number, fields["closed_at"], fields["closed_by"], folder, sha256(data)))


def for_settings(settings: Settings) -> Revisions:
    """The month-close revisions of these settings: files under CLOSE_DIR, the index in the state database
    (security.sqlite, or PostgreSQL when DATABASE_URL is set)."""
    return Revisions(settings.closes_dir, state_db.for_settings(settings))


def verify(manifest_path: Path | str, expected_sha256: str | None = None) -> list[str]:
    """One line per problem with a revision's files: missing, changed, or not listed; none when all match.
    manifest_path: a file, or an object (s3://…) of a CLOSE_DIR in a bucket."""
    manifest_path = objects.location(manifest_path)
    try:
        data = manifest_path.read_bytes()
        listed = json.loads(data)["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [f"{manifest_path}: not a readable manifest ({type(error).__name__})"]
    problems = [] if expected_sha256 in (None, sha256(data)) else [
        f"{manifest_path}: changed since it was recorded (sha256 differs from the index)"]
    folder = manifest_path.parent
    present = {str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST}
    names = set()
    for entry in listed:  # (one listing of the folder: an object's size comes with it)
        names.add(entry["path"])
        path = present.get(entry["path"])
        if path is None:
            problems.append(f"{entry['path']}: missing")
        elif path.stat().st_size != entry["bytes"] or sha256(path.read_bytes()) != entry["sha256"]:
            problems.append(f"{entry['path']}: changed")
    for name in sorted(set(present) - names, key=lambda name: present[name]):
        problems.append(f"{name}: not listed")
    return problems


def _lock_file(folder: Path | ObjectPath) -> Path:
    """The lock file of a period's closes: beside its revisions; for a bucket, which has no locks, in the
    temporary folder (one per bucket, prefix and period: this machine's closes wait for each other; other
    replicas are kept apart by the state's exclusive(), and the manifest's exclusive write guards the rest)."""
    if isinstance(folder, ObjectPath):
        name = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"usage-analytics-close-{name}.lock"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / ".lock"


def _write_objects(final: ObjectPath, files: dict[str, bytes], manifest: bytes) -> None:
    """A revision into a bucket, which cannot rename a folder into place: every file first, the manifest
    last (written only if there is none: a second writer fails), so a revision is whole once its manifest
    exists, and a reader never takes a folder without one for a revision (_adopt, verify). The files of a
    revision begun and never finished (no manifest) are removed first."""
    if (final / MANIFEST).is_file():
        raise FileExistsError(f"{final} already holds a revision")
    for leftover in list(final.rglob("*")):
        leftover.unlink(missing_ok=True)
    for name, data in sorted(files.items()):
        (final / name).write_bytes(data)
    (final / MANIFEST).write_bytes(manifest, exclusive=True)
