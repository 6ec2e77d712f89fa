"""CSV text that a spreadsheet opens as the data it holds: every line break inside a value quoted. (Each export
string's cell is neutralised first by handoff.cell, so that no value is run as a formula.)"""
from __future__ import annotations

import csv
import io
from typing import Iterable


def csv_text(rows: Iterable[Iterable[str]]) -> str:
    """CSV lines ending in \\n, every field holding a line break quoted, a lone \\r too: Python 3.11's csv quotes
    only the characters of its line terminator, and a spreadsheet starts a new row at a lone \\r, where the rest
    of the value would be read as a cell of its own (a formula, un-neutralised)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # (so that \r and \n in a field are quoted)
    for row in rows:
        writer.writerow(row)
        out.seek(out.tell() - 2)
        out.write("\n")
        out.truncate()
    return out.getvalue()
