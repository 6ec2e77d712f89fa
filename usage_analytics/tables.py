"""Every table of a page: st.dataframe with export strings shown as text (formatting.plain), and under it our
own "Download CSV" of the table as shown: the same rows and columns, money exact, every text cell neutralised
for spreadsheets like the handoff pack's (handoff.cell), a file name that says what, whose and when, and an
access-log entry. Streamlit's own toolbar download and copy are off (.streamlit/config.toml,
client.disableDataExport): they wrote formulas raw, named files by timestamp and were never logged."""
from __future__ import annotations

import hashlib
import math
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
import streamlit as st

from . import formatting
from .handoff import cell
from .spreadsheet import csv_text

MONEY_PLACES = 6  # a money column ("dollar": $1,148.30 on screen) is written to its exact 6 places in a download
ALL_CUSTOMERS = "all-customers"  # the scope part of a file name when the table is of every customer
_FIXED = re.compile(r"%[,+ ]*\.(\d+)f")  # a printf number format with a fixed count of decimals ("$%.6f")


def _config(column_config: Mapping[str, Any] | None, column: str) -> Any:
    return (column_config or {}).get(column, ...)


def shown_columns(frame: pd.DataFrame, column_config: Mapping[str, Any] | None = None,
                  column_order: Iterable[str] | None = None) -> list[tuple[str, str, int | None]]:
    """The columns st.dataframe shows, in its order: (column, header as shown, decimals of a fixed number
    format or None). A column configured as None is hidden, as st.dataframe hides it."""
    found = []
    for column in list(column_order) if column_order is not None else list(frame.columns):
        config = _config(column_config, column)
        if config is None or column not in frame.columns:
            continue
        label, places = str(column), None
        if isinstance(config, str):
            label = config
        elif isinstance(config, dict):
            label = config.get("label") or label
            number_format = (config.get("type_config") or {}).get("format") or ""
            fixed = _FIXED.search(number_format)
            places = int(fixed.group(1)) if fixed else MONEY_PLACES if number_format == "dollar" else None
        found.append((column, label, places))
    return found


def _value(value: Any, places: int | None) -> str:
    """One CSV cell: empty for a missing value, numbers as numbers (a money column to its shown decimals,
    exactly), times in ISO 8601 UTC, and every text through handoff.cell (no formula from data)."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):  # numpy numbers and booleans as Python's
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return cell(value)
    if isinstance(value, (int, float, Decimal)):
        if places is not None:
            return f"{value:.{places}f}"  # (a 6-place amount below $1e9 is exact in a float: as shown)
        return f"{value:f}" if isinstance(value, Decimal) else repr(value)
    if isinstance(value, datetime):
        moment = pd.Timestamp(value)
        moment = moment.tz_convert("UTC") if moment.tzinfo else moment
        return moment.isoformat().replace("+00:00", "") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return cell(str(value))


def to_csv(frame: pd.DataFrame, column_config: Mapping[str, Any] | None = None,
           column_order: Iterable[str] | None = None) -> str:
    """The table as st.dataframe shows it, as CSV: its columns and headers, every row, the values whole."""
    columns = shown_columns(frame, column_config, column_order)
    header = [cell(label) for _, label, _ in columns]
    return csv_text([header, *zip(*(_cells(frame[column], places) for column, _, places in columns))])


def _csv(frame: pd.DataFrame, column_config: Mapping[str, Any] | None, column_order: list[str] | None) -> str:
    """to_csv once per table content: a rerun for a click elsewhere on the page reuses the file. Keyed by a hash
    of every row (st.cache_data hashes a sample of a large frame's rows)."""
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    digest = hashlib.sha256(rows + repr((list(frame.columns), [str(t) for t in frame.dtypes])).encode()).hexdigest()
    return _cached_csv(digest, frame, column_config, column_order)


@st.cache_data(max_entries=32, show_spinner=False)
def _cached_csv(digest: str, _frame: pd.DataFrame, column_config: Mapping[str, Any] | None,
                column_order: list[str] | None) -> str:
    return to_csv(_frame, column_config, column_order)


def _cells(values: pd.Series, places: int | None) -> list[str]:
    """A column's CSV cells; each distinct value is written once (names and ids repeat down a table)."""
    if pd.api.types.is_float_dtype(values.dtype) and places is not None:
        return ["" if v != v else f"{v:.{places}f}" for v in values.tolist()]
    if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        return [str(v) for v in values.tolist()]
    written: dict = {}
    found = []
    for value in values.tolist():
        if type(value) is str:
            found.append(cell(value))
            continue
        try:
            text = written.get((type(value), value))
            if text is None:
                text = written[(type(value), value)] = _value(value, places)
        except TypeError:  # (an unhashable value)
            text = _value(value, places)
        found.append(text)
    return found


def on_screen(frame: pd.DataFrame) -> pd.DataFrame:
    """The table's screen copy: export strings through formatting.plain (bidirectional controls shown as
    \ufffd, long values shortened); the rest, and the download, keep the values whole."""
    shown = frame.copy()
    for column in shown.columns:
        if shown[column].dtype == object or pd.api.types.is_string_dtype(shown[column].dtype):
            texts = {v for v in shown[column].tolist() if isinstance(v, str)}
            changed = {v: formatting.plain(v) for v in texts}
            if any(v != text for v, text in changed.items()):
                shown[column] = [changed.get(v, v) if isinstance(v, str) else v for v in shown[column].tolist()]
    return shown


def file_name(view, name: str, whose: str | None = None, when: str | None = None) -> str:
    """<what>_<whose>_<when>.csv: whose is the view's scope (a customer id, or all customers) unless given ("":
    none, for tables that are no customer's); when is the view's period label unless given."""
    whose = (formatting.file_part(view.customer_id) if view.customer_id else ALL_CUSTOMERS) if whose is None \
        else whose and formatting.file_part(whose)
    when = formatting.file_part(view.period.label if when is None else when)
    return "_".join(part for part in (formatting.file_part(name), whose, when) if part) + ".csv"


MISSING = "—"  # what an empty cell shows (Streamlit's own is a grey "None", which reads as a name); its CSV keeps it empty


def show(view, frame: pd.DataFrame, name: str, *, whose: str | None = None, when: str | None = None,
         download: bool = True, column_config: Mapping[str, Any] | None = None,
         column_order: Iterable[str] | None = None, **dataframe_kwargs: Any) -> Any:
    """Draw a table, and under it, small and at the right, its CSV download (download=False: none, for a table
    whose file is offered otherwise). name says what the table is: the file name's first part, the download's
    key (unique on a page) and the access log's "csv: <name>". Returns what st.dataframe returns (a selection
    event when on_select is given)."""
    column_order = None if column_order is None else list(column_order)
    dataframe_kwargs.setdefault("placeholder", MISSING)
    shown = st.dataframe(on_screen(frame), column_config=column_config, column_order=column_order, **dataframe_kwargs)
    if not download or frame.columns.empty:
        return shown
    file = file_name(view, name, whose, when)
    rows = len(frame)
    with st.container(horizontal=True, horizontal_alignment="right"):
        # The file is made with the page, not on the click: Streamlit's deferred data is fetched after the click's
        # rerun has started, and a rerun that ends first drops it (the button then spins and never downloads).
        st.download_button(
            ":small[Download CSV]", _csv(frame, column_config, column_order), file, "text/csv",
            key=f"csv_{formatting.file_part(name)}", icon=":material/download:", type="tertiary",
            help=f"`{file}`: the {rows:,} row{'s' if rows != 1 else ''} of this table as shown, every value whole; "
                 "text that a spreadsheet would run as a formula starts with an apostrophe.",
            on_click=view.log_export(f"csv: {name}"))
    return shown
