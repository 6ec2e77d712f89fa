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
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")
_SOURCE = re.compile(r"\b(?:from|join)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


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
        """The dataset tables this query reads."""
        return {name for name in _SOURCE.findall(_COMMENT.sub("", self.text)) if name in DATASETS}

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


@cache
def load(name: str, folder: Path = QUERIES_DIR) -> Query:
    path = folder / f"{name}.sql"
    if not path.is_file():
        raise QueryError(f"no query named {name!r} (looked for {path})")
    return parse(name, path.read_text())


def names(folder: Path = QUERIES_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.sql"))
