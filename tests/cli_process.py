"""Run `run.py` as a person would: a separate process, started in another folder, given relative paths.

run_cli(folder, *args, env=..., as_nobody=...) returns the finished process; error_line(result) is its one
`Error: ...` line, after checking that nothing on stderr is a traceback. As root, permission cases run the command
as `nobody` (root reads and writes everything); `shared_folder()` makes a folder that user can enter.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "run.py"
IS_ROOT = os.geteuid() == 0
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def run_cli(folder: Path, *args: str, env: dict | None = None, as_nobody: bool = False,
            timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `python run.py ARGS` in folder and wait for it."""
    environment = {**os.environ, "MPLCONFIGDIR": str(folder / ".matplotlib"), "HOME": str(folder), **(env or {})}
    for name in ("LBM_DB", "LBM_PRIVATE_DB", "LBM_CONFIG"):
        environment.pop(name, None)
    command = [sys.executable, str(RUN), *args]
    if as_nobody and IS_ROOT:
        reach = subprocess.run([*AS_NOBODY, sys.executable, "-c", f"open({str(RUN)!r}).close()"], capture_output=True)
        assert reach.returncode == 0, (f"`nobody` cannot read {RUN}: the permission tests run the command as that "
                                       "user, so every folder above the checkout and its .venv must be open to others "
                                       "(chmod o+rx)")
        command = AS_NOBODY + command
    return subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, timeout=timeout)


def error_line(result: subprocess.CompletedProcess) -> str:
    """Return the command's one `Error: ` line (without the prefix); fail on a traceback or more than one."""
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0].removeprefix("Error: ")


def shared_folder() -> Path:
    """Return a new folder that every user can enter and write (remove it with shutil.rmtree)."""
    folder = Path(tempfile.mkdtemp(prefix="lbm-cli-"))
    folder.chmod(0o777)
    return folder


def can_drop_privileges() -> bool:
    """Say whether permission cases can be tried: as a plain user, or as root through setpriv."""
    return not IS_ROOT or shutil.which("setpriv") is not None
