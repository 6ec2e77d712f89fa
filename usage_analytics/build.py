"""Building a store from the exports: every dataset checked into a DuckDB file (or memory), its rollups
summed, and, when files were only added since the last build, a refresh of a copy of that file instead.

The explicit step before any query: pages reach it through the app's caches, the command line through
`ingest`, `check` and `handoff`. Each state of the exports has a file of its own under STATE_DIR/store."""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterator

import duckdb

from . import objects, rollups, sql, store, validation
from .checking import Checker, Rebuild, day_text, literal, signatures
from .contract import DATASETS
from .objects import Location, ObjectPath, Unreachable
from .store import DataError, Store, first_line

log = logging.getLogger("usage_analytics")
# DuckDB's cap while checking exports into a store file; beyond it, it spills to disk. At 100M rows the build's
# CPU was the same at 2, 2.6 and 3 GB (118-129 CPU-s, alternating runs), and its peak 2.2 GB instead of 3.2: the
# cap bounds DuckDB's own memory, not the process's, which adds Python and DuckDB's allocations beside the cap.
BUILD_MEMORY = "2GB"
UNREACHABLE = "unreachable"  # the fingerprint of exports in a bucket that cannot be listed
RETRY_SECONDS = 60.0  # a bucket found unreachable is not asked again for this long (each try can take seconds)
_unreachable: dict[str, tuple[float, Unreachable]] = {}  # exports location -> when it failed, and how


def _package_modules(root: ModuleType) -> list[ModuleType]:
    """root and every module of this package it uses, directly or through another (by their globals)."""
    package = __name__.rpartition(".")[0] + "."
    found: dict[str, ModuleType] = {}
    waiting = [root]
    while waiting:
        module = waiting.pop()
        if module.__name__ in found:
            continue
        found[module.__name__] = module
        for value in vars(module).values():
            name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
            if isinstance(name, str) and name.startswith(package) and name in sys.modules:
                waiting.append(sys.modules[name])
    return sorted(found.values(), key=lambda m: m.__name__)


@cache
def code_version() -> str:
    """A store file is rebuilt when the code that shapes it changes, not only when the exports do: the
    source of this module and of every module of the package it uses, and the SQL of macros, rollups and
    their refreshes. Derived, so a new module or SQL file counts without being listed."""
    sources = [Path(m.__file__).read_bytes() for m in _package_modules(sys.modules[__name__])]
    sources += [p.read_bytes() for folder in (sql.MACROS_DIR, sql.ROLLUPS_DIR, sql.REFRESH_DIR)
                for p in sorted(folder.glob("*.sql"))]
    return hashlib.sha256(b"\0".join(sources)).hexdigest()[:12]


def _folder(data_dir: Location | str) -> Location:
    """The exports folder in one spelling ("data", "./data", "/srv/app/data", a link to it; s3://bucket/prefix
    for a bucket), so that its store file's name, its fingerprint and the files named in reports agree
    whichever way it was given."""
    where = objects.location(data_dir)
    return where if isinstance(where, ObjectPath) else where.resolve()


def _fingerprint(folder: Location) -> str:
    """fingerprint() of a folder as _folder spells it; Unreachable when it is a bucket that cannot be listed
    (then not asked again for RETRY_SECONDS)."""
    digest = hashlib.sha256()
    if isinstance(folder, ObjectPath):  # one listing: every object's key, size and ETag
        failed = _unreachable.get(str(folder))
        if failed is not None and time.monotonic() - failed[0] < RETRY_SECONDS:
            raise failed[1]
        try:
            listed = folder.listing()
        except Unreachable as error:
            _unreachable[str(folder)] = (time.monotonic(), error)
            raise
        _unreachable.pop(str(folder), None)
        for path in listed:
            info = path.stat()
            digest.update(f"{path}\0{info.st_size}\0{info.etag}\n".encode())
        return digest.hexdigest()[:16]
    for path in sorted(folder.rglob("*")):
        try:
            info = path.stat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def fingerprint(data_dir: Location | str) -> str:
    """Changes whenever a file under data_dir is added, removed, rewritten or touched (cache key). Folders
    themselves do not count: making and removing an empty folder changes nothing the app reads. In a bucket:
    an object added, removed or replaced (its key, size and ETag, from a listing); UNREACHABLE while the
    bucket cannot be listed (build then serves the last store built from it, saying it may be stale)."""
    try:
        return _fingerprint(_folder(data_dir))
    except Unreachable:
        return UNREACHABLE


def _key(data_dir: Location, now: datetime | None) -> str:
    """What the checked tables depend on: the exports' files, the day 'now' falls on, the building code.
    Unreachable when the exports are in a bucket that cannot be listed."""
    return f"{_fingerprint(_folder(data_dir))}@{day_text(now)}@{code_version()}"


def store_file(data_dir: Location | str, key: str, store_dir: Path) -> Path:
    """Where the store of this exports folder in this state lives: one file per state, named by both."""
    folder = hashlib.sha256(str(_folder(data_dir)).encode()).hexdigest()[:8]
    return Path(store_dir) / f"store-{folder}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.duckdb"


def ready(data_dir: Location | str, now: datetime | None, store_dir: Path) -> bool:
    """Whether the store of the exports as they are now is already built (opening it is then quick); for a
    bucket that cannot be listed, whether there is a last store to serve."""
    try:
        return store_file(data_dir, _key(data_dir, now), store_dir).exists()
    except Unreachable:
        return bool(_last_files(_folder(data_dir), Path(store_dir)))


def _other_states(database: Path) -> list[Path]:
    """The store files of the same exports folder in other states (named store-<folder>-<state>.duckdb)."""
    return [p for p in database.parent.glob(database.name.rsplit("-", 1)[0] + "-*.duckdb") if p != database]


def _copy(source: Path, target: Path) -> None:
    """A copy of a store file. copy_file_range lets the kernel copy inside the file system; shutil's
    sendfile copy of a 2 GB store file took 2-41 s here where this took 0.6-3 s (same runs, cache dropped
    or not), and the copy is most of an incremental refresh."""
    if not hasattr(os, "copy_file_range"):  # (Linux only)
        shutil.copyfile(source, target)
        return
    try:
        with open(source, "rb") as reading, open(target, "wb") as writing:
            left = os.fstat(reading.fileno()).st_size
            while left > 0:
                copied = os.copy_file_range(reading.fileno(), writing.fileno(), left)
                if copied == 0:
                    raise OSError(f"{source}: copy_file_range stopped with {left} bytes left")
                left -= copied
    except OSError:  # not supported for these files (an old kernel, some file systems): copy them plainly
        shutil.copyfile(source, target)


def _connect(path: str, spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    con = store.connect(path)
    if spill is not None:  # DuckDB would take 80% of RAM; cap it, and spill to disk beyond
        con.execute(f"set memory_limit = '{BUILD_MEMORY}'")
        con.execute(f"set temp_directory = {literal(str(spill))}")
    return con


def _check_all(checker: Checker, con: duckdb.DuckDBPyConnection, progress: Callable[[str], None]) -> None:
    rollups.make_free_macros(con)
    for number, dataset in enumerate(DATASETS.values(), 1):
        progress(f"checking {dataset.name} ({number}/{len(DATASETS)})")
        checker.check(dataset)
    rollups.roll_up(con, set(DATASETS), {}, set(checker.problems), progress, checker.reports)


def build(data_dir: Location | str, now: datetime | None = None, store_dir: Path | None = None,
          progress: Callable[[str], None] | None = None) -> Store:
    """Check the exports into a store and open it: the store file of their current state under store_dir
    (built, or refreshed from the last one, when missing; reused while the exports, the UTC day of now and
    the building code are unchanged), or memory when store_dir is None or cannot be written.

    Exports in a bucket (s3://bucket/prefix) are read from a local copy under store_dir (objects.Mirror). A
    bucket that cannot be listed or read: the last store file built from it, its reports saying that the
    figures may be stale (validation.stale); with none, every dataset is unusable and says why.

    now: rows with an event more than a day after it are refused; None (the tests' fixtures): no such check."""
    data_dir, progress = _folder(data_dir), progress or (lambda message: None)
    unreachable = None
    if store_dir is not None:
        try:
            return _from_file(data_dir, now, Path(store_dir), progress)
        except Unreachable as error:
            found = _last_store(data_dir, Path(store_dir), error)
            if found is not None:
                return found
            log.warning("%s; there is no store built from it to serve", error)
            unreachable = error
        except (OSError, duckdb.IOException) as error:  # e.g. a read-only STATE_DIR: still serve
            log.warning("store folder %s cannot be used (%s); checking the exports in memory", store_dir,
                        first_line(error))
    con = _connect(":memory:")
    if not isinstance(data_dir, ObjectPath):
        checker = Checker(con, data_dir, now, progress)
        _check_all(checker, con, progress)
        return Store(con, checker.state())
    with tempfile.TemporaryDirectory(prefix="exports-") as folder:  # (the tables hold the rows: gone after)
        mirror = objects.Mirror(data_dir, Path(folder))
        if unreachable is None:
            try:
                mirror.sync(DATASETS, progress)
            except Unreachable as error:
                unreachable = error
        checker = Checker(con, mirror.folder if unreachable is None else _Gone(data_dir, unreachable), now, progress)
        _check_all(checker, con, progress)
        return Store(con, mirror.named(checker.state()))


class _Gone:
    """A bucket that cannot be read, as Checker.listing sees it: each dataset's folder cannot be read, and why
    (without asking the bucket again for each)."""

    def __init__(self, where: object, error: Unreachable):
        self.where, self.error = str(where), error

    def __truediv__(self, name: str) -> _Gone:
        return _Gone(f"{self.where}/{name}", self.error)

    def __str__(self) -> str:
        return self.where

    def is_dir(self) -> bool:
        return True

    def rglob(self, pattern: str) -> list:
        raise self.error


class _Local:
    """A local exports folder, read where it is (the interface of objects.Mirror, for build)."""

    def __init__(self, folder: Path):
        self.folder = folder

    @staticmethod
    def signatures(files: list[Path]) -> list[list]:
        return signatures(files)

    @staticmethod
    def named(state: dict) -> dict:
        return state

    @staticmethod
    def local(state: dict) -> dict:
        return state


@contextlib.contextmanager
def _readable(data_dir: Location, store_dir: Path, progress: Callable[[str], None]
              ) -> Iterator[_Local | objects.Mirror]:
    """Where DuckDB reads the exports: a local folder itself; a bucket's mirror under store_dir, brought up to
    date (and locked: one builder of a bucket at a time). Unreachable when the bucket cannot be read."""
    if not isinstance(data_dir, ObjectPath):
        yield _Local(data_dir)
        return
    name = hashlib.sha256(str(data_dir).encode()).hexdigest()[:8]
    mirror = objects.Mirror(data_dir, store_dir / ".objects" / name)
    with mirror.lock():
        mirror.sync(DATASETS, progress)
        yield mirror


def _from_file(data_dir: Location, now: datetime | None, store_dir: Path, progress: Callable[[str], None]) -> Store:
    """The store file of these exports; built first when there is none, under a temporary name and renamed
    into place (atomic). Each state of the exports has a file of its own: DuckDB keeps a file open once per
    process and path, and a reader of the previous state must keep reading it."""
    key = _key(data_dir, now)
    database = store_file(data_dir, key, store_dir)
    if database.exists():
        try:
            found, built_for = store.open_file(database)
            if built_for == key:
                return found
            found.close()
        except DataError:
            pass  # a broken file: build it again
    store_dir.mkdir(parents=True, exist_ok=True)
    building = store_dir / f".{database.name}.{os.getpid()}.{threading.get_ident()}.building"
    building.unlink(missing_ok=True)
    started = time.perf_counter()
    with _readable(data_dir, store_dir, progress) as readable:
        if isinstance(data_dir, ObjectPath) and database.exists():  # built by the builder we waited for
            with contextlib.suppress(DataError):
                found, built_for = store.open_file(database)
                if built_for == key:
                    return found
                found.close()
        checker = _write(readable, now, store_dir, database, building, key, progress)
    for old in _other_states(database):  # this folder's earlier states (a process reading one keeps
        old.unlink(missing_ok=True)  # reading its copy: the file goes when the last reader closes it)
    made = "refreshed" if checker is None else "built"
    progress(f"store {made} in {time.perf_counter() - started:.1f} s")
    opened, _ = store.open_file(database)
    opened.made = made
    return opened


def _write(readable: _Local | objects.Mirror, now: datetime | None, store_dir: Path, database: Path, building: Path,
           key: str, progress: Callable[[str], None]) -> Checker | None:
    """Write the store file for key: a refresh of a copy of the last one where it can, else a full build.
    Returns the checker of a full build, None after a refresh."""
    previous = _previous(readable, now, database)
    con = None
    try:
        if previous is not None:  # only files were added: copy the last file and check the new ones
            _copy(previous[0], building)
        con = _connect(str(building), spill=store_dir / ".spill")
        checker = Checker(con, readable.folder, now, progress)
        if previous is not None:
            _refresh(checker, con, *previous[1:], progress)
        else:
            _check_all(checker, con, progress)
        con.execute(f"create or replace table {store.STATE_TABLE} (key varchar, state varchar)")
        con.execute(f"insert into {store.STATE_TABLE} values ($key, $state)",
                    {"key": key, "state": json.dumps(readable.named(checker.state()))})
        con.execute("checkpoint")
        con.close()
        os.replace(building, database)  # a reader finds the whole file or none
    except BaseException:
        if con is not None:
            con.close()
        building.unlink(missing_ok=True)
        raise
    return None if previous is not None else checker


def _previous(readable: _Local | objects.Mirror, now: datetime | None, database: Path
              ) -> tuple[Path, dict, dict] | None:
    """The newest earlier store file of these exports that a refresh can start from, with its state (naming
    the files where they are read) and the plan (see _plan); None when a full build is needed (or simpler)."""
    earlier = sorted(_other_states(database), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    if not earlier:
        return None
    try:
        with duckdb.connect(str(earlier[0]), read_only=True) as con:
            found, state = store.read_state(con)
        _, day, code = found.rsplit("@", 2)
    except (DataError, duckdb.Error, ValueError):
        return None
    today = day_text(now)  # (same day, or a later one; "-" is a store checked without a "now")
    later = day == today or ("-" not in (day, today) and day < today)
    if code != code_version() or "signatures" not in state or not later:
        return None
    plan = _plan(Checker(None, readable.folder, now, lambda message: None), state, day, readable.signatures)
    if all(step == "check" for step in plan.values()):
        return None
    return earlier[0], readable.local(state), plan


def _plan(checker: Checker, state: dict, day: str, sign: Callable[[list[Path]], list[list]] = signatures
          ) -> dict[str, str | list[Path]]:
    """Per dataset: 'keep' (its files are unchanged), the list of new files to add (only files were
    added, and they sort after the others, so a full check would see them last), or 'check' (all
    again: a file changed or went, a dataset was unusable, or a new 'now' could accept rows that
    were refused as being in the future). sign: the signatures of listed files, as the state has them."""
    plan: dict[str, str | list[Path]] = {}
    for name, dataset in DATASETS.items():
        old = state["signatures"].get(name)
        report = state["reports"].get(name, {})
        future = any(r["reason"] == validation.IN_THE_FUTURE for r in report.get("rejected", []))
        try:
            listed = checker.listing(dataset)
            now = sign(listed)
        except DataError:
            plan[name] = "check"
            continue
        if old is None or name in state["problems"] or name not in state.get("types", {}) \
                or (future and day != day_text(checker.now)):
            plan[name] = "check"
        elif now == old:
            plan[name] = "keep"
        elif now[:len(old)] == old and all(path > old[-1][0] for path, _, _ in now[len(old):]):
            plan[name] = listed[len(old):]
        else:
            plan[name] = "check"
    return plan


def _refresh(checker: Checker, con: duckdb.DuckDBPyConnection, state: dict, plan: dict[str, str | list[Path]],
             progress: Callable[[str], None]) -> None:
    """Bring a copy of the previous store file up to date: datasets by plan, then their rollups."""
    checker.restore(state)
    changed: set[str] = set()
    since: dict[str, date | None] = {}
    for number, (name, step) in enumerate(plan.items(), 1):
        dataset = DATASETS[name]
        if step == "keep":
            continue
        changed.add(name)
        if isinstance(step, list):
            progress(f"adding {len(step)} new file{'s' if len(step) != 1 else ''} of {name} ({number}/{len(plan)})")
            try:
                since[name] = checker.append(dataset, step)
                continue
            except Rebuild:
                pass
        progress(f"checking {name} ({number}/{len(plan)})")
        checker.check(dataset)
    rollups.roll_up(con, changed, since, set(checker.problems), progress, checker.reports)


def _last_files(data_dir: Location, store_dir: Path) -> list[Path]:
    """The store files of this exports folder, newest first."""
    found = list(store_dir.glob(store_file(data_dir, "", store_dir).name.rsplit("-", 1)[0] + "-*.duckdb"))
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def _last_store(data_dir: Location, store_dir: Path, error: Unreachable) -> Store | None:
    """The last store built from exports that cannot be reached now (by this code), its reports saying so
    (validation.stale names the exports and when the store was checked, never a credential); None if none."""
    try:
        files = _last_files(data_dir, store_dir)
    except OSError:
        return None
    for database in files:
        try:
            found, key = store.open_file(database)
        except DataError:
            continue
        if key.rsplit("@", 1)[-1] != code_version():
            found.close()
            continue
        checked = datetime.fromtimestamp(database.stat().st_mtime, timezone.utc)
        note = (f"the exports at {data_dir} cannot be reached ({error.strerror}): these figures are from the "
                f"store checked at {checked:%Y-%m-%d %H:%M} UTC, and may be stale")
        log.warning("%s; serving the store checked at %s", error, f"{checked:%Y-%m-%d %H:%M} UTC")
        for report in found.reports.values():
            report.unreachable = note
        return found
    return None
