"""Installs a pure-Python wheel by unpacking it, after checking every file against its RECORD.

There is no pip in the sandbox (and nothing to download). A wheel is a zip (PEP 427); its
`*.dist-info/RECORD` lists each file with `sha256=<urlsafe base64, no padding>` and size (PEP 376,
PEP 627). A file missing from RECORD, a hash or size mismatch, a path that escapes the install
folder, or compiled code is refused before anything is written.
"""

import base64
import csv
import hashlib
import importlib
import io
import os
import posixpath
import site
import sys
import zipfile

_UNHASHED = ("RECORD", "RECORD.jws", "RECORD.p7s")


class WheelError(Exception):
    pass


def _safe(path):
    if path.startswith("/") or "\\" in path or ":" in path.split("/")[0]:
        return False
    parts = path.split("/")
    return all(p not in ("", ".", "..") for p in parts)


def install_wheel(filename, data, target=None):
    target = target or site.getsitepackages()[0]
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise WheelError(f"{filename}: not a zip file; rebuild the wheel") from None
    names = [i.filename for i in zf.infolist() if not i.is_dir()]
    if len(set(names)) != len(names):
        raise WheelError(f"{filename}: the archive lists a file twice")
    for n in names:
        if not _safe(n):
            raise WheelError(f"{filename}: unsafe path in archive: {n!r}")
    dist_infos = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
    if len(dist_infos) != 1:
        raise WheelError(f"{filename}: expected one .dist-info folder, found {len(dist_infos)}")
    dist_info = dist_infos.pop()
    try:
        wheel_meta = zf.read(f"{dist_info}/WHEEL").decode("utf-8")
        record = zf.read(f"{dist_info}/RECORD").decode("utf-8")
    except KeyError as e:
        raise WheelError(f"{filename}: missing {e.args[0]}") from None
    if "Root-Is-Purelib: true" not in wheel_meta.replace("\r", ""):
        raise WheelError(f"{filename}: not a pure-Python wheel (Root-Is-Purelib is not true)")

    recorded = {}
    for row in csv.reader(io.StringIO(record)):
        if not row:
            continue
        if len(row) != 3:
            raise WheelError(f"{filename}: malformed RECORD line: {row!r}")
        path, digest, size = row
        recorded[path] = (digest, size)

    for n in names:
        base = posixpath.basename(n)
        if n.startswith(dist_info + "/") and base in _UNHASHED:
            continue
        if n not in recorded:
            raise WheelError(f"{filename}: {n} is not listed in RECORD")
        digest, size = recorded[n]
        if not digest.startswith("sha256="):
            raise WheelError(f"{filename}: {n} has no sha256 hash in RECORD")
        body = zf.read(n)
        got = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
        if got != digest[len("sha256="):]:
            raise WheelError(f"{filename}: {n} does not match its RECORD hash; the wheel was altered")
        if size and int(size) != len(body):
            raise WheelError(f"{filename}: {n} does not match its RECORD size")
        if n.endswith((".so", ".pyd", ".dylib", ".dll")):
            raise WheelError(f"{filename}: contains compiled code ({n}); only pure-Python wheels run here")
    for path in recorded:
        if path not in names and posixpath.basename(path) not in _UNHASHED:
            raise WheelError(f"{filename}: RECORD lists {path}, which is not in the archive")

    data_dir = dist_info[: -len(".dist-info")] + ".data"
    written = 0
    for n in names:
        rel = n
        if n.startswith(data_dir + "/"):
            scheme, _, rest = n[len(data_dir) + 1 :].partition("/")
            if scheme not in ("purelib", "platlib") or not rest:
                continue  # scripts, headers and data files have no place in the sandbox
            rel = rest
        dest = os.path.join(target, *rel.split("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(zf.read(n))
        written += 1

    meta = zf.read(f"{dist_info}/METADATA").decode("utf-8", "replace") if f"{dist_info}/METADATA" in names else ""
    name, version = dist_info[: -len(".dist-info")].rsplit("-", 1) if "-" in dist_info else (dist_info, "")
    for line in meta.splitlines():
        if line.startswith("Name: "):
            name = line[6:].strip()
        elif line.startswith("Version: "):
            version = line[9:].strip()
        elif not line.strip():
            break
    importlib.invalidate_caches()
    if target not in sys.path:
        sys.path.append(target)
    return {"filename": filename, "name": name, "version": version, "files": written}
