# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sources that answer for many people at once: a bounded, lazy worker pool and the run-wide rule.

Every remote source (URL, SharePoint, Graph) has ``prefetch(people)`` yielding
``(person, SourcePhoto | None | PhotoSyncError)`` in any order: one request (or a few) per person on
a worker pool (``prefetch_each``), or a lookup for a group of people at once followed by per-person
work on the pool (``prefetch_grouped``, SharePoint's ``$batch``).  Per-person failures (5xx after the
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


class Later(object):
    """A group lookup's answer for a person whose result needs one more step on the worker pool:
    ``finish(person, payload)`` gives it (``prefetch_grouped``)."""

    __slots__ = ("payload",)

    def __init__(self, payload):
        self.payload = payload


def chunks(items, size):
    """Lists of up to ``size`` consecutive items, consumed lazily (the last one may be shorter)."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def prefetch_grouped(lookup, finish, people, group_size, workers, lookahead=2):
    """``prefetch`` for a source that answers for a group of people in one request.

    ``lookup(group)`` (up to ``group_size`` people) returns ``(person, result | Later(payload))`` for each
    of them; it runs on ``lookahead`` threads of its own, ahead of the rest, so the workers never wait for
    the next group.  ``finish(person, payload)`` completes each ``Later`` on ``workers`` threads (the HTTP
    client's own cap bounds how many requests are in the air in all).  People are consumed lazily: at most
    ``lookahead`` groups and about ``4 * workers`` finishing tasks are in flight.

    Same contract as ``prefetch_each``: per-person outcomes are yielded as they complete; a run-wide error
    stops every new lookup and task, and is raised once the work in flight has finished.  A PhotoSyncError
    raised by ``lookup`` that is not run-wide becomes every person of the group's error."""
    stop = threading.Event()
    run_wide = []

    def guarded(fn, *args):
        if stop.is_set():
            return _Skipped
        try:
            return fn(*args)
        except PhotoSyncError as exc:
            mark_error(exc)
            if exc.run_wide:
                stop.set()
            return exc

    groups = chunks(people, max(1, int(group_size)))
    workers = max(1, int(workers or 1))
    lookups = {}
    finishing = {}
    exhausted = False
    with ThreadPoolExecutor(max_workers=max(1, lookahead)) as ahead, ThreadPoolExecutor(max_workers=workers) as pool:
        while True:
            while not exhausted and not stop.is_set() and len(lookups) < lookahead and len(finishing) < 4 * workers:
                group = next(groups, None)
                if group is None:
                    exhausted = True
                    break
                lookups[ahead.submit(guarded, lookup, group)] = group
            if not lookups and not finishing:
                break
            done, dummy = wait(list(lookups) + list(finishing), return_when=FIRST_COMPLETED)
            for future in done:
                if future in lookups:
                    group = lookups.pop(future)
                    answers = future.result()
                    if answers is _Skipped:
                        continue
                    if isinstance(answers, PhotoSyncError):
                        answers = [(person, answers) for person in group]
                    for person, answer in answers:
                        if isinstance(answer, Later):
                            if not stop.is_set():
                                finishing[pool.submit(guarded, finish, person, answer.payload)] = person
                            continue
                        if isinstance(answer, PhotoSyncError):
                            mark_error(answer)
                            if answer.run_wide:
                                stop.set()
                                run_wide.append(answer)
                                continue
                        if not run_wide:
                            yield person, answer
                else:
                    person = finishing.pop(future)
                    result = future.result()
                    if result is _Skipped:
                        continue
                    if isinstance(result, PhotoSyncError) and result.run_wide:
                        run_wide.append(result)
                        continue
                    if not run_wide:
                        yield person, result
    if run_wide:
        raise run_wide[0]
