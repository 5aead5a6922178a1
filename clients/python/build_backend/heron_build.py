"""
PEP 517 backend: setuptools, plus a fallback for the one thing a fresh venv's setuptools
cannot do alone.

`pip install --no-index --no-build-isolation ./clients/python` in a fresh `python3 -m venv`
builds with the venv's own setuptools. Before setuptools 70.1 building a wheel needs the
separate `wheel` package (bdist_wheel), which a fresh venv does not have and an offline
machine cannot download. So: with `wheel` importable everything goes to setuptools'
build_meta unchanged; without it, setuptools still reads pyproject.toml and builds
(`egg_info` for the metadata, `build_py` for the files) and this module only zips the result
into a wheel (stdlib zipfile), as bdist_wheel would.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from setuptools import build_meta as _st

try:
    import wheel  # noqa: F401

    _HAVE_WHEEL = True
except ImportError:
    _HAVE_WHEEL = False

build_sdist = _st.build_sdist
get_requires_for_build_sdist = _st.get_requires_for_build_sdist


def get_requires_for_build_wheel(config_settings=None):
    return _st.get_requires_for_build_wheel(config_settings) if _HAVE_WHEEL else []


def get_requires_for_build_editable(config_settings=None):
    return get_requires_for_build_wheel(config_settings)


def _setup(*args: str) -> None:
    subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", *args], check=True, stdout=sys.stderr)


def _egg_info(tmp: str) -> str:
    _setup("egg_info", "--egg-base", tmp)
    (egg,) = [d for d in os.listdir(tmp) if d.endswith(".egg-info")]
    return os.path.join(tmp, egg)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _name_version(pkg_info: str):
    name = version = None
    for line in pkg_info.splitlines():
        if line.startswith("Name: ") and name is None:
            name = line[6:].strip()
        elif line.startswith("Version: ") and version is None:
            version = line[9:].strip()
    return name.replace("-", "_").replace(".", "_"), version


def _write_dist_info(egg: str, target: str) -> str:
    pkg_info = _read(os.path.join(egg, "PKG-INFO"))
    name, version = _name_version(pkg_info)
    dist_info = os.path.join(target, f"{name}-{version}.dist-info")
    os.makedirs(dist_info, exist_ok=True)
    with open(os.path.join(dist_info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(pkg_info)
    with open(os.path.join(dist_info, "WHEEL"), "w", encoding="utf-8") as f:
        f.write("Wheel-Version: 1.0\nGenerator: heron_build (setuptools)\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    for extra in ("entry_points.txt", "top_level.txt"):
        src = os.path.join(egg, extra)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(dist_info, extra))
    return os.path.basename(dist_info)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    if _HAVE_WHEEL:
        return _st.prepare_metadata_for_build_wheel(metadata_directory, config_settings)
    tmp = tempfile.mkdtemp()
    try:
        return _write_dist_info(_egg_info(tmp), metadata_directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def _zip(wheel_directory: str, root: str, dist_info: str) -> str:
    name_version = dist_info[: -len(".dist-info")]
    whl = os.path.join(wheel_directory, f"{name_version}-py3-none-any.whl")
    records = []
    files = []
    for base, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for n in sorted(names):
            full = os.path.join(base, n)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if rel != f"{dist_info}/RECORD":
                files.append((full, rel))
    files.sort(key=lambda x: (x[1].startswith(dist_info + "/"), x[1]))  # dist-info last
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        for full, rel in files:
            with open(full, "rb") as f:
                data = f.read()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{rel},sha256={digest},{len(data)}")
            z.writestr(rel, data)
        records.append(f"{dist_info}/RECORD,,")
        z.writestr(f"{dist_info}/RECORD", "\n".join(records) + "\n")
    return os.path.basename(whl)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if _HAVE_WHEEL:
        return _st.build_wheel(wheel_directory, config_settings, metadata_directory)
    tmp = tempfile.mkdtemp()
    try:
        root = os.path.join(tmp, "root")
        _setup("build_py", "--build-lib", root)
        os.makedirs(os.path.join(tmp, "egg"))
        dist_info = _write_dist_info(_egg_info(os.path.join(tmp, "egg")), root)
        return _zip(wheel_directory, root, dist_info)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    if _HAVE_WHEEL and hasattr(_st, "build_editable"):
        return _st.build_editable(wheel_directory, config_settings, metadata_directory)
    tmp = tempfile.mkdtemp()
    try:
        root = os.path.join(tmp, "root")
        os.makedirs(os.path.join(tmp, "egg"))
        dist_info = _write_dist_info(_egg_info(os.path.join(tmp, "egg")), root)
        with open(os.path.join(root, "__editable__.heron_client.pth"), "w", encoding="utf-8") as f:
            f.write(os.path.abspath(os.getcwd()) + "\n")
        return _zip(wheel_directory, root, dist_info)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
