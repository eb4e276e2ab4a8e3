"""The PyPI ``requests`` package must never be installed or imported: our app folder ``requests/``
shadows it (DESIGN.md, Stack). Outgoing HTTP uses httpx."""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Calls that only the PyPI library offers; our app is used as ``requests.models``, ``requests.services``…
LIBRARY_USE = re.compile(
    r"\brequests\.(get|post|put|patch|delete|head|request|Session|Response|exceptions|adapters|auth)\b"
)


def test_the_pypi_requests_package_is_not_installed():
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("requests")


def test_no_requests_library_exists_anywhere_on_the_path_outside_the_repo():
    outside = [p for p in sys.path if p and Path(p).resolve() != REPO_ROOT]
    assert importlib.machinery.PathFinder.find_spec("requests", outside) is None


def test_import_requests_resolves_to_our_app_folder():
    import requests

    assert Path(requests.__file__).resolve() == REPO_ROOT / "requests" / "__init__.py"
    assert not hasattr(requests, "get")


def test_no_project_code_calls_the_requests_library():
    offenders = []
    for path in REPO_ROOT.rglob("*.py"):
        relative = path.relative_to(REPO_ROOT)
        if relative.parts[0].startswith(".") or relative.parts[0] in {"node_modules", "staticfiles", "var"}:
            continue
        if relative == Path(__file__).resolve().relative_to(REPO_ROOT):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if LIBRARY_USE.search(line):
                offenders.append(f"{relative}:{number}")
    assert offenders == []
