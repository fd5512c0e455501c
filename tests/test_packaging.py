"""The built wheel installs one import package, procedo, with its node types."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(ROOT)], check=True, capture_output=True
    )
    (built,) = out.glob("procedo-*.whl")
    return built


def test_wheel_holds_only_the_procedo_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"procedo", wheel.name.split("-py")[0] + ".dist-info"}
    assert "procedo/nodes/condition.py" in names
    assert "procedo/subject_types/invoice.json" in names


def test_built_wheel_imports_and_finds_its_node_types(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    script = (
        "import procedo, procedo.registry as r;"
        "print(procedo.__file__);"
        "print(sorted(r.load_registry()))"
    )
    # The unpacked wheel comes first on the path, ahead of the editable install.
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    first, types = result.stdout.splitlines()
    assert first.startswith(str(tmp_path))
    assert "condition" in types
    assert "escalate" in types
