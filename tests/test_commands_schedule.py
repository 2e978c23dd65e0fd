import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _start(tmp_path):
    args = [sys.executable, "run.py", "--db", str(tmp_path / "a.db"), "--private-db", str(tmp_path / "p.db"),
            "schedule"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("Scheduler running with"), line + proc.stderr.read()
    return proc, args


def test_second_scheduler_refused_and_sigterm_twice_stops_cleanly(tmp_path):
    proc, args = _start(tmp_path)
    try:
        second = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert second.stderr.startswith("Error: another scheduler is running")
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)     # a supervisor forwarding the signal again
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Scheduler stopped." in out
    assert "Traceback" not in err
