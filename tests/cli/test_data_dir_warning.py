"""`serve` records its data dir; commands that write to another one warn, with both paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tests.cli.support import clean_env, run
from tests.support.serving import Served


def fake_server(runtime_dir, pid, data_dir):
    runtime_dir.mkdir(parents=True, exist_ok=True)
    (runtime_dir / f"serve-{pid}.json").write_text(json.dumps({"pid": pid, "data_dir": str(data_dir)}))


def test_a_write_elsewhere_warns_with_both_paths(tmp_path):
    env = clean_env(tmp_path)
    served, mine = tmp_path / "served", tmp_path / "mine"
    fake_server(tmp_path / "runtime", os.getpid(), served)  # this test's process: alive
    r = run("wardrobe", "token", "ana", "--data-dir", str(mine), env=env)
    assert r.returncode == 0 and r.stdout.count(".") == 2  # still a JWT
    assert r.stderr == (f"wardrobe token: warning: writing to {mine}, but the running `lambdasmith serve` "
                        f"(pid {os.getpid()}) uses {served}; pass --data-dir {served} for it to see this\n")  # fmt: skip
    secret = run("badges", "new-secret", env=env).stdout.strip()
    r = run("badges", "register-org", "acme", "--type", "testdata", "--secret", secret, "--data-dir", str(mine), env=env)
    assert r.returncode == 0 and r.stderr.startswith(f"register-org: warning: writing to {mine}, but the running")


def test_no_warning_for_the_same_dir_or_a_dead_server(tmp_path):
    env = clean_env(tmp_path)
    same = tmp_path / "same"
    fake_server(tmp_path / "runtime", os.getpid(), same)
    assert run("wardrobe", "token", "ana", "--data-dir", str(same), env=env).stderr == ""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "runtime" / f"serve-{os.getpid()}.json").unlink()
    fake_server(tmp_path / "runtime", dead.pid, tmp_path / "elsewhere")
    assert run("wardrobe", "token", "ana", "--data-dir", str(same), env=env).stderr == ""
    assert not (tmp_path / "runtime" / f"serve-{dead.pid}.json").exists()  # a stale entry is cleaned up


def test_serve_records_itself_and_removes_the_entry_on_exit(tmp_path):
    env = clean_env(tmp_path)
    server = Served(str(tmp_path / "data"), ["badges"], env).start()
    try:
        [entry_file] = (tmp_path / "runtime").glob("serve-*.json")
        entry = json.loads(entry_file.read_text())
        assert entry["pid"] == server.proc.pid and entry["data_dir"] == str(tmp_path / "data")
        assert entry["ports"]["badges"] == int(server.urls["badges"].rsplit(":", 1)[1])
        r = run("wardrobe", "token", "ana", "--data-dir", str(tmp_path / "other"), env=env)
        assert f"uses {tmp_path / 'data'}" in r.stderr
    finally:
        assert server.stop() == 0
    deadline = time.monotonic() + 5
    while entry_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not entry_file.exists()
