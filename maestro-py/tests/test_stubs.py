"""The type stubs match the extension module (mypy's stubtest)."""

import subprocess
import sys
from pathlib import Path


def test_stubtest() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "maestro._maestro", "--ignore-missing-stub"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_package_is_typed() -> None:
    import maestro

    assert (Path(maestro.__file__).parent / "py.typed").exists()
    assert (Path(maestro.__file__).parent / "_maestro.pyi").exists()
