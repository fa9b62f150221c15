"""Fixtures for the checks on what `make package` built (build/), run by `make test` after it.

These tests never build anything themselves: a missing build/ output is a failure that says to
run `make package`, not a skip, so CI cannot go green on a package that was never made.
"""
from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
PKG_VENV = ROOT / ".venv-pkg"
SHARED_DATA = ROOT.parent / "shared" / "data"

if str(ROOT) not in sys.path:  # the test process may read tests/ helpers; the smoke child may not
    sys.path.insert(0, str(ROOT))


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run `make package` first")
    return path


@pytest.fixture(scope="session")
def template() -> dict:
    return json.loads(_require(BUILD / "template.json").read_text())


@pytest.fixture(scope="session")
def resources(template) -> dict:
    return template["Resources"]


@pytest.fixture(scope="session")
def functions(resources) -> dict:
    return {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}


@pytest.fixture(scope="session")
def report() -> dict:
    return json.loads(_require(BUILD / "package-report.json").read_text())


@pytest.fixture(scope="session")
def deployment_zip() -> Path:
    return _require(BUILD / "deployment.zip")


@pytest.fixture(scope="session")
def zip_sizes(deployment_zip) -> dict[str, int]:
    with zipfile.ZipFile(deployment_zip) as zf:
        return {i.filename: i.file_size for i in zf.infolist() if not i.is_dir()}


@pytest.fixture(scope="session")
def unzipped(deployment_zip, tmp_path_factory) -> Path:
    """The deployment package extracted into an empty directory, as Lambda does into /var/task."""
    target = tmp_path_factory.mktemp("task")
    with zipfile.ZipFile(deployment_zip) as zf:
        zf.extractall(target)
    return target


@pytest.fixture(scope="session")
def pkg_python() -> Path:
    """The Python 3.12 of the packaging venv (the Lambda runtime's version)."""
    return _require(PKG_VENV / "bin" / "python")
