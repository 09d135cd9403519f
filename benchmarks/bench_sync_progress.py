#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sync role on a few thousand people: do progress lines appear while it runs, and what do
they cost?

    python benchmarks/bench_sync_progress.py [--people 2000] [--interval 1] [--apply]

Needs the test DC running (tests/support/samba-dc start; PHOTOSYNC_DC_DIR). Seeds OU=Bulk with
--people people (tests/support/samba-dc seed --bulk N; only OU=Bulk is touched), writes a photo
for each of them into a temporary folder, and runs the role (roles/sync) over OU=Bulk twice in
the same way, in check mode unless --apply:

  progress   sync_progress: true  (the module runs async; sync_wait prints processed/total)
  baseline   sync_progress: false (the module runs as a plain task: no progress lines)

It prints every progress line as it arrives, stamped with the seconds since ansible-playbook
started, then how many lines showed a run in progress (0 < processed < total), the wall time of
both runs and their ratio (progress / baseline: the cost of running async and polling). It
never asserts on times.
"""

from __future__ import print_function

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRESS = re.compile(r"^photosync \[[^\]]+\] sync: ")
COUNTS = re.compile(r"^photosync \[[^\]]+\] sync: (\d+)(?:/(\d+))? people")

PLAYBOOK = """
- name: Bulk sync benchmark
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/photosync.ad.ldap:
      server: "{server}"
      ca_cert: "{ca_cert}"
      username: "{username}"
      password: "{password}"
  roles:
    - role: photosync.ad.sync
      vars:
        sync_search_base: "{ou}"
        # seed_dc.py --bulk makes people without a password: the directory keeps them disabled
        sync_include_disabled: true
        sync_photo_dir: "{photos}"
        sync_photo_name_templates: ["{{sAMAccountName}}.jpg"]
        sync_report_dir: "{reports}"
        sync_progress_interval: {interval}
        sync_report_include_photos: false
"""


def run(command, env=None, stream=False):
    start = time.time()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, bufsize=1)
    lines = []
    for line in proc.stdout:
        stamp = time.time() - start
        lines.append((stamp, line.rstrip("\n")))
        if stream and PROGRESS.match(line):
            print("  %6.1f s  %s" % (stamp, line.rstrip()))
    proc.wait()
    return proc.returncode, time.time() - start, lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--apply", action="store_true", help="write the photos (default: check mode)")
    args = parser.parse_args()

    dc_dir = os.environ.get("PHOTOSYNC_DC_DIR", "/tmp/photosync-dc")
    env = dict(os.environ, PYTHON=sys.executable)
    print("seeding %d people in OU=Bulk (tests/support/samba-dc seed --bulk %d) ..." % (args.people, args.people))
    subprocess.run([os.path.join(REPO, "tests", "support", "samba-dc"), "seed", "--bulk", str(args.people)],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    with open(os.path.join(dc_dir, "dc.json")) as handle:
        dc = json.load(handle)
    with open(os.path.join(dc_dir, "bulk.json")) as handle:
        bulk = json.load(handle)

    work = tempfile.mkdtemp(prefix="photosync-bench-")
    try:
        photos = os.path.join(work, "photos")
        t0 = time.time()
        subprocess.run([sys.executable, os.path.join(REPO, "demo", "make_photos.py"), photos] + sorted(bulk["users"]),
                       check=True, stdout=subprocess.DEVNULL)
        print("%d photos written in %.1f s" % (len(bulk["users"]), time.time() - t0))
        coll = os.path.join(work, "collections", "ansible_collections", "photosync")
        os.makedirs(coll)
        os.symlink(REPO, os.path.join(coll, "ad"))
        playbook = os.path.join(work, "bench.yml")
        with open(playbook, "w") as handle:
            handle.write(PLAYBOOK.format(server=dc["server"], ca_cert=dc["ca_cert"], username=dc["admin"]["username"],
                                         password=dc["admin"]["password"], ou=bulk["ou"], photos=photos,
                                         reports=os.path.join(work, "reports"), interval=args.interval))
        play_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"),
                        ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False")
        base = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable, playbook]
        if not args.apply:
            base.append("--check")
        mode = "apply" if args.apply else "check mode"

        print("\nprogress run (%s, sync_progress: true, interval %.1f s): progress lines as they arrive" % (mode, args.interval))
        rc, progress_time, lines = run(base, play_env, stream=True)
        if rc:
            print("\n".join(text for dummy, text in lines[-60:]))
            sys.exit("the progress run failed (exit %d)" % rc)
        seen = [COUNTS.match(text).groups() for dummy, text in lines if COUNTS.match(text)]
        # in progress: some people done, not all of them (or the total not known yet)
        during = [s for s in seen if int(s[0]) > 0 and (s[1] is None or int(s[0]) < int(s[1]))]
        summary = [text for dummy, text in lines if re.search(r"people: ", text)]

        print("\nbaseline run (%s, sync_progress: false)" % mode)
        rc, baseline_time, blines = run(base + ["-e", "sync_progress=false"], play_env)
        if rc:
            print("\n".join(text for dummy, text in blines[-60:]))
            sys.exit("the baseline run failed (exit %d)" % rc)

        print("\npeople in scope:               %s" % (seen[-1][1] if seen else 0))
        print("progress lines:                %d, of them %d while the run was in progress (0 < processed < total)"
              % (len([t for dummy, t in lines if PROGRESS.match(t)]), len(during)))
        for text in summary[:1]:
            print("summary line:                  %s" % text.strip().strip('",'))
        print("wall time, progress run:       %.1f s" % progress_time)
        print("wall time, baseline run:       %.1f s" % baseline_time)
        print("ratio progress / baseline:     %.2f" % (progress_time / baseline_time))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
