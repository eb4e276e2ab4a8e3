"""``loadtest/run.py``'s own arithmetic: where the machine's CPU went during a load run."""

from __future__ import annotations

import importlib.util
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

LOADTEST = Path(__file__).resolve().parent.parent / "loadtest"

# A parent that starts a child on request, waits for it and stays alive, as the gunicorn master
# does when it replaces a worker after max_requests.
PARENT = """
import subprocess, sys
print("ready", flush=True)
sys.stdin.readline()
burn = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.6: pass"
subprocess.run([sys.executable, "-c", burn], check=True)
print("done", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def run_module():
    spec = importlib.util.spec_from_file_location("load_run", LOADTEST / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_child_that_ended_during_the_run_is_counted_in_its_parents_part(run_module, monkeypatch):
    """A worker replaced during the run is not alive at the second reading: its CPU must still be
    charged to the web server, through the master's waited-for children."""
    marker = "cpu-probe-" + secrets.token_hex(6)  # only this test's parent carries it
    monkeypatch.setattr(run_module, "PARTS", (("probe", marker),))
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, marker], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout.readline().strip() == "ready"
        before = run_module.cpu_seconds()
        parent.stdin.write("go\n")
        parent.stdin.flush()
        assert parent.stdout.readline().strip() == "done"
        after = run_module.cpu_seconds()
    finally:
        parent.stdin.close()
        parent.wait(timeout=30)
    assert after["probe"] - before["probe"] >= 0.5  # the child's 0.6 s, now in the parent's part
    lines = run_module.cpu_lines(before, after)
    assert lines[0].startswith("cpu: machine busy ") and "probe " in lines[0]
