"""The `airlock` module: what a notebook sees of the owner's data inside the sandbox.

The same API exists for local development against mock data (python/airlock_local), so a notebook
runs unchanged in both places. Tables arrive from the host as typed arrays; numeric columns become
`array.array` objects filled with one memcpy, never a Python object per value.
"""

import array as _array
import csv as _csv
import io as _io
import math as _math
import os as _os

import _airlock_host  # registered by the sandbox worker; not part of the public API

__all__ = ["table", "tables", "open_csv", "progress", "OUTPUT_DIR", "Table"]

#: Files written here (and below) are the run's only result; everything else is discarded.
OUTPUT_DIR = "/airlock/output"

_TYPECODES = {"float64": "d", "int32": "i", "uint8": "B"}


def _copy_array(typecode, js_array):
    """One memcpy from the host's typed array into a new `array.array` (no per-value objects)."""
    out = _array.array(typecode, bytes(_array.array(typecode).itemsize)) * int(js_array.length)
    js_array.assign_to(out)
    return out


class Table:
    """A read-only table: `.columns`, `.types`, `len(t)`, `.column(name)`, `.rows()`."""

    def __init__(self, name):
        meta = _airlock_host.describe(name)
        if meta is None:
            known = ", ".join(sorted(tables())) or "none"
            raise KeyError(f"no table named {name!r} in this run (tables: {known})")
        self.name = name
        self._n = int(meta.rowCount)
        self.columns = [str(c) for c in meta.columns]
        self.types = {str(c): str(t) for c, t in zip(meta.columns, meta.types)}
        self._cache = {}

    def __len__(self):
        return self._n

    def __repr__(self):
        return f"<airlock.Table {self.name!r}: {self._n} rows, {len(self.columns)} columns>"

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
        col = _airlock_host.column(self.name, name)
        if self.types[name] == "string":
            dictionary = list(col.dictionary.to_py())
            codes = _copy_array("i", col.values)
            values = [dictionary[c] if c >= 0 else None for c in codes]
        else:
            values = _copy_array(_TYPECODES[str(col.kind)], col.values)
        self._cache[name] = values
        return values

    def categorical(self, name):
        """A string column as `(codes, categories)`: `array('i')` of indexes (-1 = missing) and a list."""
        if self.types.get(name) != "string":
            raise TypeError(f"column {name!r} is not a string column")
        col = _airlock_host.column(self.name, name)
        return _copy_array("i", col.values), list(col.dictionary.to_py())

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
    return [str(n) for n in _airlock_host.names()]


def table(name):
    """The table `name` as mounted for this run; raises KeyError naming the tables there are."""
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


def progress(fraction, message=""):
    """Reports progress (0.0 to 1.0) and a short message to the owner's screen."""
    f = float(fraction)
    if _math.isnan(f):
        raise ValueError("progress fraction must be a number")
    _airlock_host.progress(min(1.0, max(0.0, f)), str(message)[:200])


_os.makedirs(OUTPUT_DIR, exist_ok=True)
