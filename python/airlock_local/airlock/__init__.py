"""The `airlock` module: what a notebook sees of the owner's data.

One file, two places. Inside the sandbox the tables come from the host (`_airlock_host`, registered
by the sandbox worker) as typed arrays, and numeric columns become `array.array` objects in one
memory copy. Locally, for development, they come from the mock files that
`airlock mock invitation.json -o mock/` writes ($AIRLOCK_DATA_DIR, default ./mock), typed from
mock/schema.json exactly as the sandbox types them. A notebook that runs here runs there unchanged.
"""

import array as _array
import csv as _csv
import io as _io
import json as _json
import math as _math
import os as _os
import sys as _sys
from datetime import datetime as _dt, timezone as _tz

try:
    import _airlock_host as _host  # present only inside the sandbox
except ImportError:  # local development over mock files
    _host = None

__all__ = ["table", "tables", "open_csv", "progress", "OUTPUT_DIR", "INPUT_DIR", "Table"]

#: Files written here (and below) are the run's only result; everything else is discarded.
OUTPUT_DIR = "/airlock/output" if _host else _os.environ.get("AIRLOCK_OUTPUT_DIR", "output")
DATA_DIR = None if _host else _os.environ.get("AIRLOCK_DATA_DIR", "mock")
#: Read-only inputs of a scoring run: request.json and model/ (the approved model's files).
INPUT_DIR = "/airlock/input" if _host else _os.environ.get("AIRLOCK_INPUT_DIR", "input")

_TYPECODES = {"float64": "d", "int32": "i", "uint8": "B"}
_TRUE = {"true", "TRUE", "True", "yes", "Yes", "YES"}


def _copy_array(typecode, js_array):
    """One memcpy from the host's typed array into a new `array.array` (no per-value objects)."""
    out = _array.array(typecode, bytes(_array.array(typecode).itemsize)) * int(js_array.length)
    js_array.assign_to(out)
    return out


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
    return (d if d.tzinfo else d.replace(tzinfo=_tz.utc)).timestamp() * 1000.0


def _mock_column(kind, raw):
    """A mock CSV column typed as the sandbox types the real one (see docs/PYTHON_API.md)."""
    if kind == "string":
        return [None if v == "" else v for v in raw]
    if kind in ("float", "datetime") or any(v == "" for v in raw):
        conv = {"int": float, "float": float, "bool": lambda v: 1.0 if v in _TRUE else 0.0, "datetime": _ms}[kind]
        return _array.array("d", [_math.nan if v == "" else conv(v) for v in raw])
    if kind == "int":
        return _array.array("i", [int(v) for v in raw])
    return _array.array("B", [1 if v in _TRUE else 0 for v in raw])


class Table:
    """A read-only table: `.columns`, `.types`, `len(t)`, `.column(name)`, `.rows()`.

    `len(t)` is the number of rows this run has. `.held_out` is how many rows of the owner's table
    the room's policy held back for the membership audit (docs/DISCLOSURE.md): they are not in the
    table, in any form; only their number is known here.
    """

    def __init__(self, name):
        known = tables()
        if name not in known:
            raise KeyError(f"no table named {name!r} in this run (tables: {', '.join(sorted(known)) or 'none'})")
        self.name = name
        self._cache = {}
        if _host:
            meta = _host.describe(name)
            self._n = int(meta.rowCount)
            self.held_out = int(meta.heldOut)
            self.columns = [str(c) for c in meta.columns]
            self.types = {str(c): str(t) for c, t in zip(meta.columns, meta.types)}
        else:
            self.types = dict(_schema()[name])
            with open(_os.path.join(DATA_DIR, f"{name}.csv"), newline="", encoding="utf-8") as f:
                reader = _csv.reader(f)
                self.columns = next(reader)
                self._raw = list(reader)
            self._n = len(self._raw)
            self.held_out = 0

    def __len__(self):
        return self._n

    def __repr__(self):
        held = f" ({self.held_out} held back for the audit)" if self.held_out else ""
        return f"<airlock.Table {self.name!r}: {self._n} rows{held}, {len(self.columns)} columns>"

    def column(self, name):
        """A column's values.

        Numbers come as `array.array`: 'i' for whole numbers, 'd' for floats, datetimes (ms since
        the Unix epoch, UTC) and any numeric or boolean column with missing values (NaN marks
        them); 'B' (0/1) for booleans. Strings come as a list of `str`, `None` where missing.
        """
        if name not in self.types:
            raise KeyError(f"table {self.name!r} has no column {name!r} (columns: {', '.join(self.columns)})")
        if name in self._cache:
            return self._cache[name]
        if _host:
            col = _host.column(self.name, name)
            if self.types[name] == "string":
                dictionary = list(col.dictionary.to_py())
                values = [dictionary[c] if c >= 0 else None for c in _copy_array("i", col.values)]
            else:
                values = _copy_array(_TYPECODES[str(col.kind)], col.values)
        else:
            i = self.columns.index(name)
            values = _mock_column(self.types[name], [r[i] for r in self._raw])
        self._cache[name] = values
        return values

    def categorical(self, name):
        """A string column as `(codes, categories)`: `array('i')` of indexes (-1 = missing) and a list."""
        if self.types.get(name) != "string":
            raise TypeError(f"column {name!r} is not a string column")
        if _host:
            col = _host.column(self.name, name)
            return _copy_array("i", col.values), list(col.dictionary.to_py())
        cats, codes = {}, _array.array("i")
        for v in self.column(name):
            codes.append(-1 if v is None else cats.setdefault(v, len(cats)))
        return codes, list(cats)

    def rows(self):
        """Iterates the rows as tuples of Python values (`None` where missing)."""
        cols = []
        for name in self.columns:
            values = self.column(name)
            if isinstance(values, _array.array) and values.typecode == "d":
                values = [None if _math.isnan(v) else v for v in values]
            cols.append(values)
        return zip(*cols)


def tables():
    """The names of the tables mounted for this run."""
    return [str(n) for n in _host.names()] if _host else sorted(_schema())


def table(name):
    """The table `name`; raises KeyError naming the tables there are."""
    return Table(name)


def open_csv(name):
    """The table as CSV text (header first) in a text file object, for code that uses `csv`."""
    t = table(name)
    buf = _io.StringIO()
    w = _csv.writer(buf, lineterminator="\n")
    w.writerow(t.columns)
    for row in t.rows():
        w.writerow(["" if v is None else v for v in row])
    buf.seek(0)
    return buf


def progress(fraction, message="", metrics=None):
    """Reports progress (0.0 to 1.0), a short message and, optionally, a few named numbers to the
    owner's screen (locally: stderr). `metrics` (up to 8, e.g. {"loss": 0.41, "auc": 0.66}) are drawn
    as a training curve, one point per call."""
    f = float(fraction)
    if _math.isnan(f):
        raise ValueError("progress fraction must be a number")
    f = min(1.0, max(0.0, f))
    shown = None
    if metrics is not None:
        if not isinstance(metrics, dict) or len(metrics) > 8:
            raise ValueError("progress metrics must be a dict of at most 8 names and numbers")
        shown = {}
        for name, value in metrics.items():
            v = float(value)
            if not isinstance(name, str) or not 0 < len(name) <= 40:
                raise ValueError("a progress metric's name must be text of 1 to 40 characters")
            if _math.isnan(v) or _math.isinf(v):
                raise ValueError(f"progress metric {name!r} must be a finite number")
            shown[name] = v
    if _host:
        if shown is None:
            _host.progress(f, str(message)[:200])
        else:
            _host.progress(f, str(message)[:200], _json.dumps(shown))
    else:
        extra = "".join(f" {k}={v:.4g}" for k, v in (shown or {}).items())
        print(f"[progress {f:.0%}] {str(message)[:200]}{extra}", file=_sys.stderr)


_os.makedirs(OUTPUT_DIR, exist_ok=True)
