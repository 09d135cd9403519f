#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-task cost (issue 8 item 12): an Ansible loop of photosync.ad.thumbnail_photo against an
Ansible loop of the generic community.general.ldap_attrs, same people, same DC, one run.

    python benchmarks/bench_task.py --people 50            (see benchmarks/README.md)

Both loops run with the same ansible-playbook and interpreter: a separate venv under the work
dir made by benchmarks/setup-peer-venv (the `ansible` 12.x package for community.general,
python-ldap, this collection's requirements).  That community.general's ldap_attrs cannot
write binary values, so it writes a text attribute (`description`) of the same people, a
fair stand-in (the issue measured the two within 4% per task).  thumbnail_photo writes
compliant 96 px JPEGs (so image work is not what is compared).  Order: both first runs
(everyone written), then both reruns (nothing to change).  Prints, never asserts.
"""

from __future__ import print_function

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import benchdata  # noqa: E402
import ldap3  # noqa: E402

from bench_sync import collections_root  # noqa: E402

PLAY_HEAD = """\
- hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
"""

THUMBNAIL_LOOP = PLAY_HEAD + """\
    - name: thumbnail_photo per person
      photosync.ad.thumbnail_photo:
        server: "{{ dc_server }}"
        ca_cert: "{{ dc_ca }}"
        username: "{{ dc_user }}"
        password: "{{ dc_password }}"
        identity: "{{ item }}"
        path: "{{ photo_dir }}/{{ item }}.jpg"
      loop: "{{ people }}"
"""

LDAP_ATTRS_LOOP = PLAY_HEAD + """\
    - name: ldap_attrs per person
      community.general.ldap_attrs:
        server_uri: "ldaps://{{ dc_server }}:636"
        ca_path: "{{ dc_ca }}"
        bind_dn: "{{ dc_bind_dn }}"
        bind_pw: "{{ dc_password }}"
        dn: "{{ dns[item] }}"
        attributes:
          description: "photo synced {{ item }} {{ stamp }}"
        state: exact
      loop: "{{ people }}"
"""


def timed_playbook(venv, work, name, text, extra_vars, env):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as handle:
        handle.write(text)
    vars_path = os.path.join(work, name + ".vars.json")
    with open(vars_path, "w") as handle:
        json.dump(extra_vars, handle)
    t0 = time.time()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([os.path.join(venv, "bin", "ansible-playbook"), "-i", "localhost,", "-e", "@" + vars_path,
                           path], env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    elapsed = time.time() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode != 0:
        with open(os.path.join(work, name + ".log"), "w") as handle:
            handle.write(proc.stdout)
        raise SystemExit("%s failed; output in %s" % (name, os.path.join(work, name + ".log")))
    changed = [line for line in proc.stdout.splitlines() if line.startswith("localhost")]
    return elapsed, cpu, changed[-1].split(":", 1)[1].strip() if changed else ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--dc-dir", default=os.environ.get("PHOTOSYNC_DC_DIR", "/tmp/photosync-dc"))
    parser.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "photosync-bench"))
    args = parser.parse_args(argv)
    work = os.path.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    subprocess.check_call([os.path.join(HERE, "setup-peer-venv"), work])
    venv = os.path.join(work, "peer-venv")
    dc = benchdata.load_dc(args.dc_dir)
    n = args.people

    benchdata.ensure_people(dc, max(n, len(benchdata.existing_people(benchdata.connect(dc), benchdata.bench_ou(dc)))))
    names = [benchdata.sam(i) for i in range(1, n + 1)]
    conn = benchdata.connect(dc)
    dns = benchdata.existing_people(conn, benchdata.bench_ou(dc))
    # Compliant 96 px JPEGs (what thumbnail_photo keeps as they are) and a different value in the
    # directory, so the first run of each loop writes every person.
    from PIL import Image
    photo_dir = os.path.join(work, "task-photos")
    os.makedirs(photo_dir, exist_ok=True)
    for i, name in enumerate(names):
        img = Image.open(io.BytesIO(benchdata.photo(i + 17))).convert("RGB")
        img.thumbnail((96, 96))
        img.save(os.path.join(photo_dir, name + ".jpg"), "JPEG", quality=85)
        conn.modify(dns[name], {"thumbnailPhoto": [(ldap3.MODIFY_REPLACE, [b"\xff\xd8old"])],
                                "description": [(ldap3.MODIFY_REPLACE, ["before the benchmark"])]})
    conn.unbind()

    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    common = dict(dc_server=dc["server"], dc_ca=dc["ca_cert"], dc_user=dc["admin"]["username"],
                  dc_bind_dn=dc["admin"]["dn"], dc_password=dc["admin"]["password"], people=names,
                  photo_dir=photo_dir, dns=dict((k, v) for k, v in dns.items() if k in names),
                  stamp=str(int(time.time())))
    version = subprocess.check_output([os.path.join(venv, "bin", "python"), "-c",
                                       "import ansible, ansible.release as r; print(r.__version__)"],
                                      universal_newlines=True).strip()
    print("photosync.ad per-task benchmark: %d people, ansible-core %s (ansible 12.x venv), Python %s" % (
        n, version, sys.version.split()[0]))
    results = {}
    for run in ("first", "rerun"):
        for name, text in (("thumbnail_photo", THUMBNAIL_LOOP), ("ldap_attrs", LDAP_ATTRS_LOOP)):
            elapsed, cpu, recap = timed_playbook(venv, work, "task-%s-%s" % (name, run), text, common, env)
            results[(name, run)] = (elapsed, cpu)
            print("  %-16s %-6s wall %7.2f s = %6.3f s/task   CPU %7.2f s = %6.3f s/task   %s" % (
                name, run, elapsed, elapsed / n, cpu, cpu / n, recap.split("unreachable")[0].strip()))
    print()
    for run in ("first", "rerun"):
        wall = results[("thumbnail_photo", run)][0] / results[("ldap_attrs", run)][0]
        cpu = results[("thumbnail_photo", run)][1] / results[("ldap_attrs", run)][1]
        print("  per task, thumbnail_photo / ldap_attrs, %-5s run: wall %.2f, CPU %.2f   (target <= 1.00: %s)" % (
            run, wall, cpu, "met" if wall <= 1.0 else "MISSED"))
    print("  (CPU: user+system time of ansible-playbook and its modules, steadier than wall time on a busy "
          "machine; the DC's own CPU is not in it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
