# -*- coding: utf-8 -*-
"""The bulk benchmark (benchmarks/bench_sync.py) runs end to end at a small N, so it cannot rot.

No timing assertions: only that it completes, measures every baseline and prints every ratio row
(with a value once thumbnail_photo_sync exists)."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_sync_runs_at_n_50_and_prints_its_ratios(dc, tmp_path):
    env = dict(os.environ)
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)  # the benchmark builds its own from the checkout
    proc = subprocess.run([sys.executable, os.path.join(REPO, "benchmarks", "bench_sync.py"), "--people", "50",
                           "--loop-people", "5", "--dc-dir", dc["dir"], "--work-dir", str(tmp_path), "--cleanup"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          timeout=1200, check=False)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:]
    for line in ("plain Pillow resize of 50 sources", "plain ldap3 writes of 50 precomputed photos",
                 "plain ldap3 paged read of 50 photos", "Ansible loop of thumbnail_photo over 5 people"):
        assert line in out, out
    rows = [line for line in out.splitlines() if "target" in line and ("/" in line or "RSS" in line)]
    for label in ("warm no-change run / plain paged photo read", "cold run / (plain Pillow resize",
                  "cold throughput / thumbnail_photo loop", "warm throughput / thumbnail_photo loop",
                  "graph fetch time", "sharepoint fetch time", "peak RSS of the sync"):
        assert len([row for row in rows if label in row]) == 1, (label, out)
    if os.path.exists(os.path.join(REPO, "plugins", "modules", "thumbnail_photo_sync.py")):
        assert "n/a" not in "".join(rows), out
        assert "sync: cold" in out and "check mode" in out, out
