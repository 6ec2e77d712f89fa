"""Loads queries/*.sql: the doc header, declared parameters and result columns."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

from .config import PROJECT_ROOT
from .contract import DATASETS

QUERIES_DIR = PROJECT_ROOT / "queries"
MACROS_DIR = QUERIES_DIR / "macros"
ROLLUPS_DIR = QUERIES_DIR / "rollups"
REFRESH_DIR = QUERIES_DIR / "refresh"
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")
# A table read: after from/join, its name, or the name passed to a table macro that reads it (runs_of('t'))
_SOURCE = re.compile(r"\b(?:from|join)\s+(?:[A-Za-z_]\w*\s*\(\s*')?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


class QueryError(ValueError):
    """A query file with a bad header, or a call with the wrong parameters."""


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    params: dict[str, str]  # name -> declared DuckDB type
    returns: tuple[tuple[str, str], ...]  # (column, declared DuckDB type)
    text: str

    def used_params(self) -> set[str]:
        return set(_PARAM.findall(_COMMENT.sub("", self.text)))

    def datasets(self) -> set[str]:
        """The dataset tables this query reads, directly or through a rollup or table macro."""
        found = set()
        for name in _SOURCE.findall(_COMMENT.sub("", self.text)):
            found |= {name} if name in DATASETS else derived().get(name, set())
        return found

    def bind(self, params: dict[str, object]) -> dict[str, object]:
        """The call's parameters, checked against the header; aware datetimes become naive UTC."""
        if set(params) != set(self.params):
            missing, extra = set(self.params) - set(params), set(params) - set(self.params)
            raise QueryError(f"query {self.name}: missing params {sorted(missing)}, unexpected {sorted(extra)}")
        return {key: _naive_utc(value) for key, value in params.items()}


def _naive_utc(value: object) -> object:
    # Views hold naive UTC timestamps; an aware parameter would be shifted by the host's zone.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _typed_list(text: str, what: str, name: str) -> list[tuple[str, str]]:
    if text.strip() == "none":
        return []
    items = []
    for part in text.split(","):
        words = part.split(maxsplit=1)
        if len(words) != 2:
            raise QueryError(f"query {name}: '{what}:' item {part.strip()!r} is not 'name TYPE'")
        items.append((words[0].lstrip("$"), words[1].strip()))
    return items


def parse(name: str, text: str) -> Query:
    """A Query from a file's text; its leading comment lines are the header."""
    description, fields = [], {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        key, _, rest = body.partition(":")
        if key in ("params", "returns"):
            fields[key] = _typed_list(rest, key, name)
        else:
            description.append(body)
    if not description or "params" not in fields or "returns" not in fields:
        raise QueryError(f"query {name}: the header needs a description, '-- params:' and '-- returns:'")
    return Query(name, " ".join(description), dict(fields["params"]), tuple(fields["returns"]), text)


def _in_build_order(texts: dict[str, str], what: str) -> list[str]:
    """Names of SQL files (rollups or macros) so that one reading another comes after it; a cycle is an error."""
    ordered: list[str] = []

    def add(name: str, seen: tuple[str, ...] = ()) -> None:
        if name in ordered:
            return
        if name in seen:
            raise QueryError(f"{what} {' -> '.join(seen + (name,))} read each other")
        for source in _SOURCE.findall(_COMMENT.sub("", texts[name])):
            if source in texts and source != name:
                add(source, seen + (name,))
        ordered.append(name)

    for name in texts:
        add(name)
    return ordered


@dataclass(frozen=True)
class Rollup:
    """queries/rollups/<table>.sql: a table computed once at ingest from checked datasets (or rollups)."""
    table: str
    reads: frozenset[str]  # the datasets it depends on ('-- reads:')
    select: str
    refresh_from: str | None  # '-- refresh from: day': rows from a day on can be recomputed alone;
    # '-- refresh from: run': workspace runs reaching the first new day ($day) are numbered (or summed) again
    # by the statements of queries/refresh/<table>.sql; '-- refresh from: file': that file's statements too
    whole_when: frozenset[str] = frozenset()  # '..., unless provider_links changed': then made again whole
    refresh: tuple[str, ...] = ()  # the refresh file's statements, for 'refresh from: run' or 'file'
    by_month: bool = False  # '-- made month by month': made whole from its select a month at a time (rollups.py)


BY_FILE = ("run", "file")  # refresh modes whose statements are queries/refresh/<table>.sql


@cache
def rollups(folder: Path = ROLLUPS_DIR) -> dict[str, Rollup]:
    """Every rollup by table, in build order: a rollup that reads another comes after it."""
    texts = {path.stem: path.read_text() for path in sorted(folder.glob("*.sql"))}
    found: dict[str, Rollup] = {}
    for name in _in_build_order(texts, "rollups"):
        reads = re.search(r"^-- reads: (.+)$", texts[name], re.MULTILINE)
        if not reads:
            raise QueryError(f"rollup {name}: the header needs '-- reads: dataset, ...'")
        refresh = re.search(r"^-- refresh from: (\w+)(?:, unless (.+) changed)?$", texts[name], re.MULTILINE)
        refresh_from = refresh.group(1) if refresh else None
        found[name] = Rollup(name, frozenset(word.strip() for word in reads.group(1).split(",")), texts[name],
                             refresh_from,
                             frozenset(w.strip() for w in refresh.group(2).split(",")) if refresh and refresh.group(2)
                             else frozenset(),
                             _refresh_statements(name) if refresh_from in BY_FILE else (),
                             re.search(r"^-- made month by month$", texts[name], re.MULTILINE) is not None)
        if found[name].by_month and (refresh_from is None or refresh_from in BY_FILE):
            raise QueryError(f"rollup {name}: made month by month, it needs '-- refresh from: <its day column>'")
    return found


def statements(text: str) -> tuple[str, ...]:
    """A file's statements without comments, each ending with ';' at the end of a line (DuckDB binds
    parameters only in the last statement of one execute, so each runs on its own)."""
    found = (_COMMENT.sub("", s).strip() for s in re.split(r";[ \t]*$", text, flags=re.MULTILINE))
    return tuple(s for s in found if s)


def _refresh_statements(table: str) -> tuple[str, ...]:
    path = REFRESH_DIR / f"{table}.sql"
    if not path.is_file():
        raise QueryError(f"rollup {table}: refreshed by its own statements, it needs {path}")
    return statements(path.read_text())


@dataclass(frozen=True)
class Macro:
    """queries/macros/<name>.sql: one DuckDB macro, named as its file."""
    name: str
    text: str
    is_table: bool  # a table macro: DuckDB binds it when it is made, so it is made after what it reads
    reads: frozenset[str]  # the datasets it reads, directly or through a rollup or another macro


_MACRO = re.compile(r"create\s+macro\s+([A-Za-z_][A-Za-z0-9_]*)\s*\([^)]*\)\s+as(\s+table\b)?", re.IGNORECASE)


@cache
def macros(folder: Path = MACROS_DIR) -> dict[str, Macro]:
    """Every macro by name, in build order: a macro that reads another comes after it."""
    tables = rollups()
    texts, is_table = {}, {}
    for path in sorted(folder.glob("*.sql")):
        texts[path.stem] = path.read_text()
        made = _MACRO.search(_COMMENT.sub("", texts[path.stem]))
        if not made or made.group(1) != path.stem:
            raise QueryError(f"macro file {path.name}: it must make one macro named {path.stem}")
        is_table[path.stem] = made.group(2) is not None
    found: dict[str, Macro] = {}
    for name in _in_build_order(texts, "macros"):
        reads: set[str] = set()
        for source in _SOURCE.findall(_COMMENT.sub("", texts[name])):
            reads |= ({source} if source in DATASETS else set(tables[source].reads) if source in tables
                      else set(found[source].reads) if source in found else set())
        found[name] = Macro(name, texts[name], is_table[name], frozenset(reads))
    return found


@cache
def derived() -> dict[str, set[str]]:
    """Rollup tables and macros -> the datasets they read (a query on them fails with those)."""
    return {**{name: set(rollup.reads) for name, rollup in rollups().items()},
            **{name: set(macro.reads) for name, macro in macros().items()}}


@cache
def load(name: str, folder: Path = QUERIES_DIR) -> Query:
    path = folder / f"{name}.sql"
    if not path.is_file():
        raise QueryError(f"no query named {name!r} (looked for {path})")
    return parse(name, path.read_text())


def names(folder: Path = QUERIES_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.sql"))
