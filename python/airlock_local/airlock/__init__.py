"""`airlock` for local development: the same API as inside the sandbox, over mock files.

`airlock mock invitation.json -o mock/` writes one CSV per table and `schema.json` (column types).
This module reads them from $AIRLOCK_DATA_DIR (default ./mock) and types every column exactly as
the sandbox does, so a notebook that runs here runs unchanged on the owner's real data.
Files written to airlock.OUTPUT_DIR ($AIRLOCK_OUTPUT_DIR, default ./output) stand for the run's result.
"""

import array as _array
import csv as _csv
import io as _io
import json as _json
import math as _math
import os as _os
import sys as _sys
from datetime import datetime as _dt, timezone as _tz

__all__ = ["table", "tables", "open_csv", "progress", "OUTPUT_DIR", "Table"]

DATA_DIR = _os.environ.get("AIRLOCK_DATA_DIR", "mock")
OUTPUT_DIR = _os.environ.get("AIRLOCK_OUTPUT_DIR", "output")
_TRUE = {"true", "TRUE", "True", "yes", "Yes", "YES"}


def _schema():
    path = _os.path.join(DATA_DIR, "schema.json")
    try:
        with open(path, encoding="utf-8") as f:
            return _json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: run `airlock mock invitation.json -o {DATA_DIR}` first (or set AIRLOCK_DATA_DIR)") from None


def _ms(text):
    t = text.replace("Z", "+00:00")
    d = _dt.fromisoformat(t if "T" in t or " " in t else t + "T00:00:00+00:00")
    if d.tzinfo is None:
        d = d.replace(tzinfo=_tz.utc)
    return d.timestamp() * 1000.0


class Table:
    """A read-only table: `.columns`, `.types`, `len(t)`, `.column(name)`, `.rows()`."""

    def __init__(self, name):
        schema = _schema()
        if name not in schema:
            raise KeyError(f"no table named {name!r} in this run (tables: {', '.join(sorted(schema)) or 'none'})")
        self.name = name
        self.types = dict(schema[name])
        with open(_os.path.join(DATA_DIR, f"{name}.csv"), newline="", encoding="utf-8") as f:
            reader = _csv.reader(f)
            self.columns = next(reader)
            self._raw = list(reader)
        self._n = len(self._raw)
        self._cache = {}

    def __len__(self):
        return self._n

    def __repr__(self):
        return f"<airlock.Table {self.name!r}: {self._n} rows, {len(self.columns)} columns>"

    def column(self, name):
        if name not in self.types:
            raise KeyError(f"table {self.name!r} has no column {name!r} (columns: {', '.join(self.columns)})")
        if name in self._cache:
            return self._cache[name]
        i = self.columns.index(name)
        raw = [r[i] for r in self._raw]
        kind = self.types[name]
        has_missing = any(v == "" for v in raw)
        if kind == "string":
            values = [None if v == "" else v for v in raw]
        elif kind == "float" or kind == "datetime" or has_missing:
            conv = {"int": float, "float": float, "bool": lambda v: 1.0 if v in _TRUE else 0.0, "datetime": _ms}[kind]
            values = _array.array("d", [_math.nan if v == "" else conv(v) for v in raw])
        elif kind == "int":
            values = _array.array("i", [int(v) for v in raw])
        else:  # bool without missing values
            values = _array.array("B", [1 if v in _TRUE else 0 for v in raw])
        self._cache[name] = values
        return values

    def categorical(self, name):
        if self.types.get(name) != "string":
            raise TypeError(f"column {name!r} is not a string column")
        cats, codes = {}, _array.array("i")
        for v in self.column(name):
            codes.append(-1 if v is None else cats.setdefault(v, len(cats)))
        return codes, list(cats)

    def rows(self):
        cols = []
        for name in self.columns:
            values = self.column(name)
            if isinstance(values, _array.array) and values.typecode == "d":
                values = [None if _math.isnan(v) else v for v in values]
            cols.append(values)
        return zip(*cols)


def tables():
    return sorted(_schema())


def table(name):
    return Table(name)


def open_csv(name):
    t = table(name)
    buf = _io.StringIO()
    w = _csv.writer(buf, lineterminator="\n")
    w.writerow(t.columns)
    for row in t.rows():
        w.writerow(["" if v is None else v for v in row])
    buf.seek(0)
    return buf


def progress(fraction, message=""):
    f = float(fraction)
    if _math.isnan(f):
        raise ValueError("progress fraction must be a number")
    print(f"[progress {min(1.0, max(0.0, f)):.0%}] {str(message)[:200]}", file=_sys.stderr)


_os.makedirs(OUTPUT_DIR, exist_ok=True)
