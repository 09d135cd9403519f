#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fuzz the image pipeline: mutated JPEG/PNG/GIF/WebP/TIFF/BMP/HEIC photos through normalize().

    python benchmarks/fuzz_images.py --cases 10000 [--seed S] [--timeout 10] [--max-rss-mb 1024]

Every case is a seeded mutation of a valid image (tests/support/imagefuzz.py; the same
seed gives the same cases).  Each goes through ``normalize()`` and ``summarize()`` in a
worker process watched by this one:

- only the pipeline's typed errors may come out (``ImageError`` subclasses,
  ``ConfigurationError``); anything else is a failure, printed with its case;
- no hang: a case that takes longer than ``--timeout`` seconds is a failure; the
  watchdog kills the worker and carries on with a fresh one from the next case;
- no memory blow-up: the worker's peak RSS (VmHWM) must stay under ``--max-rss-mb``;
- nothing plain Pillow refuses to decode is accepted (``--no-oracle`` skips this check).

It prints the cases run, the outcomes (accepted, typed errors by kind), the slowest
case, the maximum time per image and the peak RSS, and exits 1 on any failure.
The fast, deterministic subset of the same cases runs in the unit tests
(tests/unit/plugins/module_utils/test_image_fuzz.py).
"""

from __future__ import print_function

import argparse
import collections
import multiprocessing
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "support"))


def _import_pipeline():
    """Import _image/_errors as ansible_collections.photosync.ad.plugins.module_utils from this checkout."""
    parts = REPO.split(os.sep)
    root = os.environ.get("PHOTOSYNC_FUZZ_ROOT")
    if parts[-3:-1] == ["ansible_collections", "photosync"] and parts[-1] == "ad":
        root = os.sep.join(parts[:-3])
    elif not root:
        import tempfile
        root = tempfile.mkdtemp(prefix="photosync-fuzz-")
        os.makedirs(os.path.join(root, "ansible_collections", "photosync"))
        os.symlink(REPO, os.path.join(root, "ansible_collections", "photosync", "ad"))
        os.environ["PHOTOSYNC_FUZZ_ROOT"] = root  # workers (spawned) reuse it
    sys.path.insert(0, root)
    from ansible_collections.photosync.ad.plugins.module_utils import _errors, _image
    return _errors, _image


def _peak_rss_kb():
    """This process's peak resident set size in KiB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (IOError, OSError):
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _worker(conn, seed, start, count, oracle):
    """Run cases start..count-1 and send one message per case: (index, name, mutation, outcome, detail, seconds, rss)."""
    # libtiff and libpng print warnings on the C level: keep the report readable
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    _errors, _image = _import_pipeline()
    import imagefuzz
    typed = (_errors.ImageError, _errors.ConfigurationError)
    profile = _image.ImageProfile()
    for index, name, mutation, data in imagefuzz.cases(seed, count):
        if index < start:
            continue
        conn.send(("start", index, name, mutation))
        began = time.perf_counter()
        detail = ""
        try:
            photo = _image.normalize(data, profile)
        except typed as exc:
            outcome = "typed:%s" % type(exc).__name__
            detail = str(exc)[:160]
        # anything else is what the fuzz run looks for
        except BaseException as exc:  # pylint: disable=broad-except
            outcome = "untyped:%s" % type(exc).__name__
            detail = traceback.format_exc()[-1200:]
        else:
            outcome = "accepted"
            if len(photo.data) > profile.max_bytes or max(photo.width, photo.height) > profile.max_dimension:
                outcome = "bad-output"
                detail = "%d bytes, %dx%d" % (len(photo.data), photo.width, photo.height)
        elapsed = time.perf_counter() - began
        try:
            summary = _image.summarize(data)
            if summary["valid"] not in (True, False):
                raise AssertionError("summarize returned %r" % (summary,))
        except BaseException:  # pylint: disable=broad-except
            outcome = "summarize-raised"
            detail = traceback.format_exc()[-1200:]
        if oracle and outcome == "accepted":
            refused = imagefuzz.pillow_refuses(data)
            if refused:
                outcome = "accepted-but-pillow-refuses"
                detail = refused[:200]
        conn.send(("done", index, name, mutation, outcome, detail, elapsed, _peak_rss_kb()))
    conn.send(("end", _peak_rss_kb()))
    conn.close()


FAILURES = ("untyped", "bad-output", "summarize-raised", "accepted-but-pillow-refuses", "hang", "worker-died")


def run(cases, seed, timeout, oracle, progress):
    """Run the cases under the watchdog; returns the statistics dict."""
    ctx = multiprocessing.get_context("spawn")
    stats = dict(outcomes=collections.Counter(), failures=[], max_seconds=0.0, slowest=None,
                 peak_rss_kb=0, restarts=0, total_seconds=0.0)
    next_index = 0
    began = time.time()
    while next_index < cases:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, seed, next_index, cases, oracle))
        proc.start()
        child.close()
        current = None
        finished = False
        while True:
            # the first message after a (re)start waits for the worker to import Pillow too
            wait = timeout if current is not None else max(timeout, 120)
            if not parent.poll(wait):
                if current is None:
                    stats["outcomes"]["worker-died"] += 1
                    stats["failures"].append(("worker-died", next_index, "-", "-", "worker did not start"))
                    next_index += 1
                else:
                    index, name, mutation = current
                    stats["outcomes"]["hang"] += 1
                    stats["failures"].append(("hang", index, name, mutation, "over %.1f s" % timeout))
                    next_index = index + 1
                proc.kill()
                stats["restarts"] += 1
                break
            try:
                message = parent.recv()
            except EOFError:
                index = current[0] if current else next_index
                name, mutation = (current[1], current[2]) if current else ("-", "-")
                stats["outcomes"]["worker-died"] += 1
                stats["failures"].append(("worker-died", index, name, mutation, "exit code %s" % proc.exitcode))
                next_index = index + 1
                stats["restarts"] += 1
                break
            if message[0] == "start":
                current = message[1:]
                continue
            if message[0] == "end":
                stats["peak_rss_kb"] = max(stats["peak_rss_kb"], message[1])
                finished = True
                break
            _tag, index, name, mutation, outcome, detail, elapsed, rss = message
            current = None
            next_index = index + 1
            stats["outcomes"][outcome] += 1
            stats["peak_rss_kb"] = max(stats["peak_rss_kb"], rss)
            if elapsed > stats["max_seconds"]:
                stats["max_seconds"] = elapsed
                stats["slowest"] = (index, name, mutation, outcome)
            if outcome.split(":")[0] in FAILURES:
                stats["failures"].append((outcome, index, name, mutation, detail))
            if progress and next_index % 1000 == 0:
                print("  %d/%d cases, %.0f s" % (next_index, cases, time.time() - began), file=sys.stderr)
        proc.join(5)
        if finished:
            break
    stats["total_seconds"] = time.time() - began
    return stats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--cases", type=int, default=10000, help="number of cases (default 10000)")
    parser.add_argument("--seed", default="1", help="seed of the case generator (default 1)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds one image may take before it counts as a hang (default 10)")
    parser.add_argument("--max-rss-mb", type=float, default=1024.0,
                        help="peak RSS of the worker that counts as a memory blow-up (default 1024)")
    parser.add_argument("--no-oracle", action="store_true",
                        help="do not check accepted cases against plain Pillow")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)

    from PIL import __version__ as pillow_version
    _import_pipeline()  # fails early on a broken checkout; sets up the import root for the workers
    stats = run(args.cases, args.seed, args.timeout, not args.no_oracle, not args.quiet)
    outcomes = stats["outcomes"]
    ran = sum(outcomes.values())
    print("photosync.ad image fuzz run: seed %s, Pillow %s, Python %s" % (
        args.seed, pillow_version, sys.version.split()[0]))
    print("cases run:        %d of %d (%.0f s, %d worker restarts)" % (
        ran, args.cases, stats["total_seconds"], stats["restarts"]))
    print("accepted:         %d" % outcomes.get("accepted", 0))
    typed = sorted((k.split(":", 1)[1], v) for k, v in outcomes.items() if k.startswith("typed:"))
    print("typed errors:     %d" % sum(v for _k, v in typed))
    for kind, count in typed:
        print("  %-16s %d" % (kind, count))
    others = sorted((k, v) for k, v in outcomes.items() if k != "accepted" and not k.startswith("typed:"))
    print("failures:         %d%s" % (sum(v for _k, v in others), "".join(
        "\n  %-16s %d" % (k, v) for k, v in others)))
    slowest = stats["slowest"]
    print("max time/image:   %.3f s (case %s: %s, %s -> %s)" % (
        (stats["max_seconds"],) + (tuple(slowest) if slowest else ("-", "-", "-", "-"))))
    print("time bound:       %.1f s per image (watchdog)" % args.timeout)
    print("peak RSS:         %.1f MB (worker; limit %.0f MB)" % (stats["peak_rss_kb"] / 1024.0, args.max_rss_mb))
    failed = list(stats["failures"])
    if stats["peak_rss_kb"] / 1024.0 > args.max_rss_mb:
        failed.append(("memory", "-", "-", "-", "peak RSS over the limit"))
    for outcome, index, name, mutation, detail in failed[:20]:
        text = str(detail).replace("\n", "\n    ")
        print("FAIL %s: case %s (%s, %s)\n    %s" % (outcome, index, name, mutation, text))
    if ran < args.cases:
        failed.append(("incomplete", "-", "-", "-", "-"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
