# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sources that answer for many people at once: a bounded, lazy worker pool and the run-wide rule.

Every remote source (URL, SharePoint, Graph) has ``prefetch(people)`` yielding
``(person, SourcePhoto | None | PhotoSyncError)`` in any order.  Per-person failures (5xx after the
retries, timeouts, a missing attribute) are yielded as errors, never as None; failures that would
repeat for everybody (configuration, TLS, 401/403) are raised with ``exc.run_wide = True``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible_collections.photosync.ad.plugins.module_utils._errors import (
    ConfigurationError,
    PhotoSyncError,
    RemoteServiceError,
)


def mark_error(exc, who=None):
    """Name the person on an error and mark what would fail for everybody as run-wide
    (configuration, TLS, 401/403): a bulk run stops instead of failing a thousand times."""
    if who is not None and exc.user is None:
        exc.user = who
    if isinstance(exc, ConfigurationError) or getattr(exc, "tls", False) or \
            (isinstance(exc, RemoteServiceError) and exc.status in (401, 403)):
        exc.run_wide = True
    elif getattr(exc, "run_wide", None) is None:
        exc.run_wide = False
    return exc


def bounded_map(fn, items, workers, ordered=False):
    """``fn(item)`` for each item on at most ``workers`` threads; ``items`` is consumed lazily with at
    most ``2 * workers`` calls submitted ahead, so memory stays bounded.  Yields ``(item, result)``
    as they finish (``ordered``: in the order of ``items``).  An exception raised by ``fn`` reaches
    the consumer when its result is yielded (the calls already submitted still finish)."""
    workers = max(1, int(workers or 1))
    iterator = iter(items)
    pending = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers:
                try:
                    item = next(iterator)
                except StopIteration:
                    exhausted = True
                    break
                pending.append((item, pool.submit(fn, item)))
            if not pending:
                return
            if ordered:
                item, future = pending.popleft()
                yield item, future.result()
                continue
            done, _running = wait([f for _i, f in pending], return_when=FIRST_COMPLETED)
            for entry in [e for e in pending if e[1] in done]:
                pending.remove(entry)
                yield entry[0], entry[1].result()


def prefetch_each(fetch, people, workers):
    """The default ``prefetch``: ``fetch(person)`` for each person on a bounded worker pool.

    Yields ``(person, SourcePhoto | None | PhotoSyncError)`` for per-person outcomes; a run-wide error
    (``exc.run_wide``: configuration, TLS, 401/403) is raised, and no further people are started."""
    stop = threading.Event()

    def one(person):
        if stop.is_set():
            return _Skipped
        try:
            return fetch(person)
        except PhotoSyncError as exc:
            mark_error(exc)
            if exc.run_wide:
                stop.set()
            return exc

    def people_until_stopped():
        for person in people:
            if stop.is_set():
                return
            yield person

    run_wide = None
    for person, result in bounded_map(one, people_until_stopped(), workers):
        if result is _Skipped:
            continue
        if isinstance(result, PhotoSyncError) and result.run_wide:
            run_wide = run_wide or result
            continue
        if run_wide is None:
            yield person, result
    if run_wide is not None:
        raise run_wide


class _Skipped(object):
    """Marker for people not started because a run-wide error came first."""
