#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bulk sync benchmark (issue 11): the sync against plain baselines measured in the same run.

    python benchmarks/bench_sync.py --people 1000          (see benchmarks/README.md)
    python benchmarks/bench_sync.py --only remote          (the SharePoint/Graph fetch figures alone, no DC)

Needs the test DC (tests/support/samba-dc start; its dc.json is found through
PHOTOSYNC_DC_DIR, default /tmp/photosync-dc).  Steps, in one run:

  data       N people in OU=PhotosyncBench (idempotent) and N source photos (600x800, 60-150 KB)
  baselines  plain Pillow resize of every source on all cores (multiprocessing, naive pipeline);
             plain ldap3 MODIFY_REPLACE of those precomputed photos over 4 connections;
             plain ldap3 paged read of every person's photo;
             an Ansible loop of photosync.ad.thumbnail_photo over 100 people (write, then rerun)
  sync       thumbnail_photo_sync over the OU: cold (everyone needs a write: the baseline wrote
             other bytes), warm (nothing changed), warm after 1% of sources changed, check mode
             -- each with wall time, the module's own duration and peak RSS
and prints each figure and the ratios of issue 11's target table.  Prints, never asserts.
"""

from __future__ import print_function

import argparse
import atexit
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import benchdata  # noqa: E402
import ldap3  # noqa: E402

LOOP_PEOPLE = 100


def collections_root():
    """A folder whose ansible_collections/photosync/ad is this checkout."""
    parts = REPO.split(os.sep)
    if parts[-3:-1] == ["ansible_collections", "photosync"] and parts[-1] == "ad":
        return os.sep.join(parts[:-3])
    root = tempfile.mkdtemp(prefix="photosync-bench-collections-")
    atexit.register(shutil.rmtree, root, True)  # only a symlink tree: never left behind in /tmp
    os.makedirs(os.path.join(root, "ansible_collections", "photosync"))
    os.symlink(REPO, os.path.join(root, "ansible_collections", "photosync", "ad"))
    return root


# --- baselines -------------------------------------------------------------------------

def _naive_resize(path):
    from PIL import Image
    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((96, 96), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        img.save(out, "JPEG")
        return out.getvalue()


def baseline_resize(photo_dir, names):
    """Plain Pillow: open, RGB, LANCZOS into 96 px, save JPEG; every source, all cores."""
    t0 = time.time()
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        photos = list(pool.map(_naive_resize, [os.path.join(photo_dir, n + ".jpg") for n in names], chunksize=16))
    return time.time() - t0, dict(zip(names, photos))


def baseline_write(dc, dns, photos, connections=4):
    """Plain ldap3 MODIFY_REPLACE of precomputed photos over ``connections`` connections."""
    names = sorted(photos)
    errors = []
    conns = [benchdata.connect(dc) for dummy in range(connections)]

    def work(conn, chunk):
        for name in chunk:
            if not conn.modify(dns[name], {"thumbnailPhoto": [(ldap3.MODIFY_REPLACE, [photos[name]])]}):
                errors.append(conn.result)

    t0 = time.time()
    threads = [threading.Thread(target=work, args=(conns[i], names[i::connections])) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    for conn in conns:
        conn.unbind()
    if errors:
        raise SystemExit("baseline write failed: %s" % errors[0])
    return elapsed


def baseline_read(dc):
    """Plain ldap3 paged read (500 a page) of every bench person's photo."""
    conn = benchdata.connect(dc)
    t0 = time.time()
    count = total = 0
    for entry in conn.extend.standard.paged_search(benchdata.bench_ou(dc), "(objectClass=user)",
                                                   search_scope=ldap3.LEVEL,
                                                   attributes=["sAMAccountName", "thumbnailPhoto"],
                                                   paged_size=500, generator=True):
        if entry.get("type") == "searchResEntry":
            count += 1
            total += len((entry["raw_attributes"].get("thumbnailPhoto") or [b""])[0])
    elapsed = time.time() - t0
    conn.unbind()
    return elapsed, count, total


REMOTE_SOURCES = ("graph", "sharepoint", "sharepoint-single")


def remote_fetch(n, latency=0.02):
    """Fetch time of the Graph and SharePoint sources' prefetch over ``n`` people from the test server
    (tests/support/sptest), with ``latency`` added to every HTTP request (a $batch request is one request),
    and without; returns {source: (seconds with, seconds without, concurrency, requests, notes)}.

    ``sharepoint`` is the source as configured by default (profiles in $batch requests of 20);
    ``sharepoint-single`` the same with batch_size 0 (one profile request per person, the path before
    $batch), measured the same way in the same run as a reference.  The test server draws and encodes
    its photos the first time they are asked for (real SharePoint and Graph store them), so every photo
    is rendered once before anything is timed."""
    sys.path.insert(0, os.path.join(REPO, "tests", "support"))
    sys.path.insert(0, collections_root())
    from sptest import SPTestServer
    from ansible_collections.photosync.ad.plugins.module_utils import _sources
    from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser
    people = [DirectoryUser("CN=bulk%04d,DC=example,DC=test" % i, "bulk%04d" % i, "bulk%04d@example.test" % i,
                            "bulk%04d@example.test" % i, None, None, None) for i in range(1, n + 1)]
    out = {}
    state = tempfile.mkdtemp(prefix="photosync-bench-sp-")
    atexit.register(shutil.rmtree, state, True)
    with SPTestServer(state, port=0, generate=n) as sp:
        for person in sp.people.people:  # the test server's own work, done before anything is timed
            if person.has_photo:
                person.photos.original()
                person.photos.sp("L")
        graph = sp.certificate_options(graph_url=sp.urls()["graph_url"].rsplit("/v1.0", 1)[0])
        sharepoint = sp.ntlm_options(auth="ntlm", mysite_url=None, account_template="EXAMPLE\\{sAMAccountName}")
        # Graph: latency on each $batch request (its items are answered inside it); SharePoint: on every
        # request, a $batch being one request (the test server applies a fault that matches the batch
        # request to the batch only).
        for label, params, regex in (("graph", dict(graph=graph), r"\$batch"),
                                     ("sharepoint", dict(sharepoint=sharepoint), r"."),
                                     ("sharepoint-single", dict(sharepoint=dict(sharepoint, batch_size=0)), r".")):
            source = _sources.build_bulk_source(params)
            list(source.prefetch(people[:3]))  # token, NTLM handshake, form digest, warm caches
            times = []
            for added in (latency, 0.0):
                sp.reset_faults()
                sp.clear_log()
                if added:
                    sp.inject(regex, latency=added, count=10 ** 9)
                t0 = time.time()
                got = list(source.prefetch(people))
                times.append(time.time() - t0)
                requests = len(sp.request_log) if added else requests
                batches = len(sp.batch_log) if added else batches
                assert len(got) == n
            notes = []
            if label == "graph":
                notes.append("20 photos per $batch")
            elif getattr(source.client, "batch_size", 0) > 1:
                notes.append("%d of them $batch requests of up to %d profiles" % (batches, source.client.batch_size))
            warnings = getattr(source, "warnings", None)
            notes.extend(warnings() if callable(warnings) else [])
            out[label] = (times[0], times[1], source.client.settings["max_concurrency"], requests, "; ".join(notes))
    return out


# --- ansible runs ----------------------------------------------------------------------

def run_playbook(work, name, text, extra_vars, env):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as handle:
        handle.write(text)
    vars_path = os.path.join(work, name + ".vars.json")
    with open(vars_path, "w") as handle:
        json.dump(extra_vars, handle)
    # A fresh child measures its own descendants: ansible-playbook, its workers and the module.
    probe = ("import resource,subprocess,sys,time;t=time.time();rc=subprocess.call(sys.argv[1:]);"
             "print('BENCH', rc, time.time()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    command = [sys.executable, "-c", probe, os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               "-i", "localhost,", "-e", "@" + vars_path, path]
    proc = subprocess.run(command, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    last = [line for line in proc.stdout.splitlines() if line.startswith("BENCH ")][-1].split()
    rc, wall, rss_kb = int(last[1]), float(last[2]), int(last[3])
    if rc != 0:
        log_path = os.path.join(work, name + ".log")
        with open(log_path, "w") as handle:
            handle.write(proc.stdout)
        raise SystemExit("%s failed (rc %d); output in %s" % (name, rc, log_path))
    return wall, rss_kb / 1024.0


CONNECTION_VARS = """\
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/photosync.ad.ldap:
      server: "{{ dc_server }}"
      ca_cert: "{{ dc_ca }}"
      username: "{{ dc_user }}"
      password: "{{ dc_password }}"
"""

LOOP_PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
""" + CONNECTION_VARS + """\
  tasks:
    - name: One task per person
      photosync.ad.thumbnail_photo:
        identity: "{{ item }}"
        path: "{{ photo_dir }}/{{ item }}.jpg"
      loop: "{{ people }}"
"""

SYNC_PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
""" + CONNECTION_VARS + """\
  tasks:
    - name: Sync the OU
      photosync.ad.thumbnail_photo_sync:
        search_base: "{{ ou }}"
        photo_dir: "{{ photo_dir }}"
        photo_name_templates: ["{sAMAccountName}.jpg"]
        state_dir: "{{ state_dir }}"
        cache_dir: "{{ cache_dir }}"
        verify: "{{ verify }}"
      register: result
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ result | to_nice_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false
"""


def sync_available():
    return os.path.exists(os.path.join(REPO, "plugins", "modules", "thumbnail_photo_sync.py"))


def run_sync(work, env, base_vars, label, check=False, verify="changed"):
    result_file = os.path.join(work, "result-%s.json" % label)
    if os.path.exists(result_file):
        os.unlink(result_file)
    extra = dict(base_vars, verify=verify, result_file=result_file)
    playbook = SYNC_PLAYBOOK
    if check:
        playbook = playbook.replace("      register: result", "      check_mode: true\n      register: result")
    wall, rss = run_playbook(work, "sync-" + label, playbook, extra, env)
    with open(result_file) as handle:
        result = json.load(handle)
    return dict(label=label, wall=wall, rss=rss, duration=result.get("duration_seconds"),
                counts=result.get("counts"), written=result.get("written"), total=result.get("total"),
                tracking=result.get("change_tracking"), parallel=result.get("parallel"))


# --- report ----------------------------------------------------------------------------

def fmt(value, unit="s"):
    return "n/a" if value is None else ("%.2f %s" % (value, unit)).strip()


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--people", type=int, default=1000, help="N people and photos (default 1000)")
    parser.add_argument("--dc-dir", default=os.environ.get("PHOTOSYNC_DC_DIR", "/tmp/photosync-dc"),
                        help="the test DC's folder with dc.json (default $PHOTOSYNC_DC_DIR or /tmp/photosync-dc)")
    parser.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "photosync-bench"),
                        help="photos, state, cache and playbooks (default: <tmp>/photosync-bench)")
    parser.add_argument("--loop-people", type=int, default=LOOP_PEOPLE,
                        help="people in the thumbnail_photo loop baseline (default 100)")
    parser.add_argument("--remote-people", type=int, default=None,
                        help="people for the SharePoint/Graph fetch figure (default min(N, 1000); 0 skips it)")
    parser.add_argument("--cleanup", action="store_true",
                        help="at the end, delete the benchmark OU with its people and the work dir's files for N")
    parser.add_argument("--only", choices=["remote"],
                        help="remote: only the SharePoint/Graph fetch figures (test server in-process, no DC needed)")
    args = parser.parse_args(argv)
    if args.only == "remote":
        return run_remote_only(args)
    try:
        return run(args)
    finally:
        if args.cleanup:
            benchdata.remove_people(benchdata.load_dc(args.dc_dir))
            for name in ("photos", "state", "cache"):
                shutil.rmtree(os.path.join(os.path.abspath(args.work_dir), "%s-%d" % (name, args.people)),
                              ignore_errors=True)


def print_remote(remote, remote_n):
    for label in REMOTE_SOURCES:
        if label not in remote:
            continue
        with_latency, without, concurrency, requests, notes = remote[label]
        print("remote: %-17s prefetch of %d people: %s with 20 ms added per request (%d requests, concurrency %d), "
              "%s without%s" % (label, remote_n, fmt(with_latency), requests, concurrency, fmt(without),
                                " [%s]" % notes if notes else ""))


def remote_rows(remote, remote_n):
    rows = []
    for label in ("sharepoint", "graph"):
        if label in remote:
            with_latency, without, concurrency, requests, notes = remote[label]
            rows.append(("%s fetch time / (N x 20 ms / fetch concurrency %d)" % (label, concurrency),
                         ratio(with_latency, remote_n * 0.02 / concurrency), "<= 1.5", lambda v: v <= 1.5))
    return rows


def reference_row(remote, remote_n):
    if "sharepoint-single" not in remote:
        return
    with_latency, without, concurrency, requests, notes = remote["sharepoint-single"]
    print("  %-64s %10.2f   (reference: batch_size 0, one profile request per person, as before $batch)" % (
        "sharepoint per person / (N x 20 ms / fetch concurrency %d)" % concurrency,
        ratio(with_latency, remote_n * 0.02 / concurrency)))


def run_remote_only(args):
    remote_n = args.remote_people if args.remote_people is not None else min(args.people, 1000)
    print("photosync.ad remote fetch benchmark: N=%d, %d cores, Python %s" % (
        remote_n, os.cpu_count(), sys.version.split()[0]))
    remote = remote_fetch(remote_n)
    print_remote(remote, remote_n)
    print("\nRatios")
    for label, value, target, ok in remote_rows(remote, remote_n):
        verdict = "n/a" if value is None else ("met" if ok(value) else "MISSED")
        print("  %-64s %10s   target %-8s %s" % (label, "n/a" if value is None else "%.2f" % value, target, verdict))
    reference_row(remote, remote_n)
    return 0


def run(args):
    n = args.people
    work = os.path.abspath(args.work_dir)
    photo_dir = os.path.join(work, "photos-%d" % n)
    os.makedirs(work, exist_ok=True)
    dc = benchdata.load_dc(args.dc_dir)
    names = [benchdata.sam(i) for i in range(1, n + 1)]
    import PIL
    print("photosync.ad bulk benchmark: N=%d, %d cores, Python %s, Pillow %s, ldap3 %s" % (
        n, os.cpu_count(), sys.version.split()[0], PIL.__version__, ldap3.__version__))
    print()

    t, added, deleted = benchdata.ensure_people(dc, n)
    print("data: people in %s: %d added, %d removed (%.1f s)" % (benchdata.bench_ou(dc), added, deleted, t))
    t, made, total = benchdata.ensure_photos(photo_dir, n)
    sizes = [os.path.getsize(os.path.join(photo_dir, name + ".jpg")) for name in names]
    print("data: source photos: %d made (%.1f s); %d-%d KB, mean %d KB, %.0f MB in all" % (
        made, t, min(sizes) // 1024, max(sizes) // 1024, sum(sizes) / len(sizes) / 1024, total / 1e6))
    conn = benchdata.connect(dc)
    dns = dict((name, dn) for name, dn in benchdata.existing_people(conn, benchdata.bench_ou(dc)).items())
    conn.unbind()

    fig = {}
    fig["resize"], naive = baseline_resize(photo_dir, names)
    print("baseline: plain Pillow resize of %d sources on %d processes: %s" % (n, os.cpu_count(), fmt(fig["resize"])))
    fig["write"] = baseline_write(dc, dns, naive)
    print("baseline: plain ldap3 writes of %d precomputed photos over 4 connections: %s (%.0f/s)" % (
        n, fmt(fig["write"]), n / fig["write"]))
    fig["read"], count, read_bytes = baseline_read(dc)
    print("baseline: plain ldap3 paged read of %d photos (%.1f MB): %s" % (count, read_bytes / 1e6, fmt(fig["read"])))

    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    base_vars = dict(dc_server=dc["server"], dc_ca=dc["ca_cert"], dc_user=dc["admin"]["username"],
                     dc_password=dc["admin"]["password"], photo_dir=photo_dir, ou=benchdata.bench_ou(dc),
                     state_dir=os.path.join(work, "state-%d" % n), cache_dir=os.path.join(work, "cache-%d" % n))
    loop_names = names[:min(args.loop_people, n)]
    m = len(loop_names)
    loop_vars = dict(base_vars, people=loop_names)
    fig["loop_cold"], dummy = run_playbook(work, "loop", LOOP_PLAYBOOK, loop_vars, env)
    fig["loop_warm"], dummy = run_playbook(work, "loop", LOOP_PLAYBOOK, loop_vars, env)
    print("baseline: Ansible loop of thumbnail_photo over %d people: %s writing (%.2f/s), %s rerun (%.2f/s)" % (
        m, fmt(fig["loop_cold"]), m / fig["loop_cold"], fmt(fig["loop_warm"]), m / fig["loop_warm"]))
    # The loop wrote its people: give them the baseline's bytes again, so the cold sync writes everyone.
    baseline_write(dc, dns, dict((name, naive[name]) for name in loop_names))
    del naive

    runs = {}
    if not sync_available():
        print("\nsync: thumbnail_photo_sync is not in this checkout; sync figures are n/a")
    else:
        for folder in (base_vars["state_dir"], base_vars["cache_dir"]):
            shutil.rmtree(folder, ignore_errors=True)
        print()
        runs["cold"] = run_sync(work, env, base_vars, "cold")
        runs["warm"] = run_sync(work, env, base_vars, "warm")
        changed = names[::100] or names[:1]
        benchdata.change_photos(photo_dir, changed, generation=int(time.time()))
        runs["warm1"] = run_sync(work, env, base_vars, "warm-1pct")
        benchdata.change_photos(photo_dir, changed, generation=int(time.time()) + 1)
        runs["check"] = run_sync(work, env, base_vars, "check", check=True)
        labels = dict(cold="cold (everyone written)", warm="warm, nothing changed",
                      warm1="warm, %d sources changed (1%%)" % len(changed), check="check mode, 1% changed")
        for key in ("cold", "warm", "warm1", "check"):
            r = runs[key]
            print("sync: %-32s wall %8s  module %8s  peak RSS %6.0f MB  written %s  counts %s%s" % (
                labels[key], fmt(r["wall"]), fmt(r["duration"]), r["rss"], r["written"],
                json.dumps(r["counts"], sort_keys=True),
                "  tracking %s" % json.dumps(r["tracking"], sort_keys=True) if r.get("tracking") else ""))
            if key == "cold" and r.get("parallel"):
                print("      parallel work in the cold run: %s" % json.dumps(r["parallel"], sort_keys=True))

    remote_n = min(n, 1000) if args.remote_people is None else args.remote_people
    remote = remote_fetch(remote_n) if remote_n else {}
    print_remote(remote, remote_n)

    cold = runs.get("cold", {}).get("duration")
    warm = runs.get("warm", {}).get("duration")
    rss = max([r["rss"] for r in runs.values()] or [None]) if runs else None
    rows = [
        ("warm no-change run / plain paged photo read", ratio(warm, fig["read"]), "<= 1.0", lambda v: v <= 1.0),
        ("cold run / (plain Pillow resize + plain 4-connection writes)",
         ratio(cold, fig["resize"] + fig["write"]), "<= 1.2", lambda v: v <= 1.2),
        ("cold throughput / thumbnail_photo loop throughput",
         ratio(n / cold if cold else None, m / fig["loop_cold"]), ">= 50x", lambda v: v >= 50),
        ("warm throughput / thumbnail_photo loop no-change throughput",
         ratio(n / warm if warm else None, m / fig["loop_warm"]), ">= 500x", lambda v: v >= 500),
        ("peak RSS of the sync (MB)", rss, "<= 500", lambda v: v <= 500),
    ]
    rows[4:4] = remote_rows(remote, remote_n)
    print("\nRatios (sync times are the module's own duration_seconds; wall times above include "
          "ansible-playbook's start)")
    for label, value, target, ok in rows:
        verdict = "n/a" if value is None else ("met" if ok(value) else "MISSED")
        print("  %-64s %10s   target %-8s %s" % (label, "n/a" if value is None else "%.2f" % value, target, verdict))
    print("  %-64s %10s   (wall-clock variant of the first row, ansible-playbook start included)" % (
        "warm no-change run (wall) / plain paged photo read",
        "n/a" if "warm" not in runs else "%.2f" % ratio(runs["warm"]["wall"], fig["read"])))
    reference_row(remote, remote_n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
