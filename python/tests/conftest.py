"""Shared fixtures of the qopt Python package tests (run through lit by
test/python/pytest.test, with PYTHONPATH naming the build-tree package)."""

import shutil
from pathlib import Path

import pytest

import qopt

SOURCE_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def examples() -> Path:
    return SOURCE_ROOT / "examples"


@pytest.fixture(scope="session")
def build_bin() -> Path:
    """The build's bin/ (qopt, qopt-run), beside the build-tree package the
    library was loaded from, else the directory of qopt on PATH."""
    library = qopt.library_path().resolve()
    candidate = library.parents[2] / "bin"
    if (candidate / "qopt").is_file():
        return candidate
    found = shutil.which("qopt")
    if not found:
        pytest.fail("cannot find the qopt driver (not beside the library, "
                    "not on PATH)")
    return Path(found).resolve().parent


@pytest.fixture(scope="session")
def qopt_tool(build_bin) -> str:
    return str(build_bin / "qopt")


@pytest.fixture(scope="session")
def qopt_run_tool(build_bin) -> str:
    return str(build_bin / "qopt-run")
