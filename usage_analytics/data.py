"""DuckDB over the parquet exports: one view per dataset, run(query_name, **params)."""
from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from . import sql
from .contract import DATASETS, Column, Dataset

# How each kind of contract column is read. Timestamps go through epoch micros because a plain
# cast of TIMESTAMPTZ follows the host's zone when DuckDB has no ICU; every view holds naive UTC.
_READ = {
    "text": "cast({c} as varchar)",
    "timestamp": "make_timestamp(epoch_us({c}))",
    "date": "cast(make_timestamp(epoch_us({c})) as date)",
    "bool": "cast({c} as boolean)",
    "int": "cast({c} as bigint)",
    "double": "cast({c} as double)",
    "money": "cast({c} as decimal(18, 9))",
}
_EMPTY_TYPE = {
    "text": "varchar", "timestamp": "timestamp", "date": "date", "bool": "boolean",
    "int": "bigint", "double": "double", "money": "decimal(18, 9)",
}


class DataError(RuntimeError):
    """A dataset cannot be used; the message names the dataset, and the file and column where known."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message (DuckDB adds hints below it), or its type when it has none."""
    return (str(error).splitlines() or [type(error).__name__])[0]


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    # View DDL cannot take prepared parameters; file paths come from our own directory listing.
    return "'" + text.replace("'", "''") + "'"


def _select_list(columns: tuple[Column, ...]) -> str:
    return ", ".join(f"{_READ[c.kind].format(c=_identifier(c.name))} as {_identifier(c.name)}" for c in columns)


class Store:
    """The DuckDB connection with one view per usable dataset; a fresh cursor per query."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.problems: dict[str, str] = {}  # dataset -> why it cannot be used
        self.files: dict[str, list[Path]] = {}
        self._con = duckdb.connect(":memory:")
        self._con.execute("set enable_progress_bar = false")  # never draw a bar on a server's stdout
        self._lock = threading.Lock()
        for macro in sorted(sql.MACROS_DIR.glob("*.sql")):  # shared rules, e.g. a day's reconciliation status
            self._con.execute(macro.read_text())
        for dataset in DATASETS.values():
            try:
                self._register(dataset)
            except DataError as error:
                self.problems[dataset.name] = str(error)

    def _register(self, dataset: Dataset) -> None:
        folder = self.data_dir / dataset.name
        if not folder.is_dir():
            raise DataError(f"dataset {dataset.name}: folder {folder} is missing")
        # Paths starting with . or _ are hidden or in-progress output by convention (Spark, Hive).
        files = sorted(f for f in folder.rglob("*.parquet")
                       if not any(part.startswith((".", "_")) for part in f.relative_to(folder).parts))
        self.files[dataset.name] = files
        view = _identifier(dataset.name)
        if not files:
            empty = ", ".join(f"cast(null as {_EMPTY_TYPE[c.kind]}) as {_identifier(c.name)}" for c in dataset.columns)
            self._con.execute(f"create view {view} as select {empty} limit 0")
            return
        self._check_columns(dataset, files)
        paths = "[" + ", ".join(_literal(str(f)) for f in files) + "]"
        self._con.execute(
            f"create view {view} as select {_select_list(dataset.columns)} "
            f"from read_parquet({paths}, union_by_name = true, hive_partitioning = false)"
        )

    def _check_columns(self, dataset: Dataset, files: list[Path]) -> None:
        """Every file must carry every contract column (union_by_name would fill a missing one with nulls)."""
        present: dict[str, set[str]] = {}
        for path in files:
            try:
                rows = self._con.execute(
                    "select name from parquet_schema($file)", {"file": str(path)}
                ).fetchall()
            except duckdb.Error as error:
                raise DataError(
                    f"dataset {dataset.name}: file {path} is not readable parquet ({first_line(error)})") from None
            present[str(path)] = {name for (name,) in rows}
        for path, names in present.items():
            missing = [c for c in dataset.column_names if c not in names]
            if missing:
                raise DataError(f"dataset {dataset.name}: file {path} has no column {', '.join(missing)}")

    @contextmanager
    def _relation(self, name: str, params: dict[str, object]) -> Iterator[duckdb.DuckDBPyRelation]:
        """queries/<name>.sql bound to params, on a cursor of its own (sessions run on threads)."""
        query = sql.load(name)
        bound = query.bind(params)
        broken = sorted(query.datasets() & set(self.problems))
        if broken:
            raise DataError("; ".join(self.problems[dataset] for dataset in broken))
        with self._lock:  # cursor() itself is not thread-safe; the query runs outside the lock
            cursor = self._con.cursor()
        try:
            yield cursor.sql(query.text, params=bound)
        except duckdb.Error as error:
            raise DataError(f"query {name}: {first_line(error)}") from None
        finally:
            cursor.close()

    def run(self, name: str, **params: object) -> pd.DataFrame:
        """The rows of queries/<name>.sql for these parameters (DECIMAL columns hold exact Decimals)."""
        with self._relation(name, params) as relation:
            return relation.to_arrow_table().to_pandas()

    def result_types(self, name: str, **params: object) -> list[tuple[str, str]]:
        """(column, DuckDB type) of a query's result, for checking its header."""
        with self._relation(name, params) as relation:
            return [(column, str(kind)) for column, kind in zip(relation.columns, relation.types)]

    def close(self) -> None:
        self._con.close()


def connect(data_dir: Path) -> Store:
    return Store(data_dir)


def fingerprint(data_dir: Path) -> str:
    """Changes whenever a file under data_dir is added, removed, rewritten or touched (cache key)."""
    digest = hashlib.sha256()
    for path in sorted(Path(data_dir).rglob("*")):
        try:
            info = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
