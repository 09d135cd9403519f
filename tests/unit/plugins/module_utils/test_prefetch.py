# -*- coding: utf-8 -*-
"""prefetch_grouped (_prefetch): a lookup per group of people, then per-person work on a pool - every person
answered once, people consumed lazily, per-person errors kept, a run-wide error stopping new work."""

from __future__ import absolute_import, division, print_function

import threading

import pytest

from ansible_collections.photosync.ad.plugins.module_utils._errors import RemoteServiceError, SourceError
from ansible_collections.photosync.ad.plugins.module_utils._prefetch import Later, prefetch_grouped


class Recorder(object):
    """lookup: even numbers need a second step (Later), odd ones are answered at once (None)."""

    def __init__(self):
        self.groups = []
        self.finished = []
        self.lock = threading.Lock()

    def lookup(self, group):
        with self.lock:
            self.groups.append(list(group))
        return [(n, Later(n * 10) if n % 2 == 0 else None) for n in group]

    def finish(self, n, payload):
        with self.lock:
            self.finished.append(n)
        return "photo-%d" % payload


def test_every_person_is_answered_once_through_the_lookup_or_the_pool():
    rec = Recorder()
    got = list(prefetch_grouped(rec.lookup, rec.finish, iter(range(1, 48)), 10, 3))
    assert sorted(n for n, dummy in got) == list(range(1, 48))
    answers = dict(got)
    assert answers[4] == "photo-40" and answers[5] is None
    assert sorted(len(g) for g in rec.groups) == [7, 10, 10, 10, 10]
    assert sorted(rec.finished) == [n for n in range(1, 48) if n % 2 == 0]


def test_people_are_consumed_lazily():
    rec = Recorder()
    pulled = []

    def people():
        for n in range(1, 10001):
            pulled.append(n)
            yield n

    results = prefetch_grouped(rec.lookup, rec.finish, people(), 20, 4)
    next(results)
    # at most the groups looked up ahead (2) plus the one being started
    assert len(pulled) <= 3 * 20
    results.close()


def test_a_lookup_error_that_is_not_run_wide_is_each_persons_error():
    def lookup(group):
        if 7 in group:
            raise SourceError("the batch broke")
        return [(n, None) for n in group]

    got = dict(prefetch_grouped(lookup, None, iter(range(1, 16)), 5, 2))
    assert len(got) == 15
    assert all(isinstance(got[n], SourceError) for n in range(6, 11))
    assert all(got[n] is None for n in list(range(1, 6)) + list(range(11, 16)))


def test_per_person_errors_are_yielded_and_the_run_goes_on():
    def finish(n, payload):
        if n == 4:
            raise RemoteServiceError("HTTP 500", user="p4", status=500)
        return payload

    got = dict(prefetch_grouped(lambda group: [(n, Later(n)) for n in group], finish, iter(range(1, 11)), 3, 2))
    assert isinstance(got[4], RemoteServiceError) and not got[4].run_wide
    assert all(got[n] == n for n in range(1, 11) if n != 4)


@pytest.mark.parametrize("where", ["lookup", "finish"])
def test_a_run_wide_error_stops_new_work_and_is_raised(where):
    rec = Recorder()

    def lookup(group):
        if where == "lookup" and 41 in group:
            raise RemoteServiceError("HTTP 401", status=401)
        return rec.lookup(group)

    def finish(n, payload):
        if where == "finish" and n == 42:
            raise RemoteServiceError("HTTP 403", status=403)
        return rec.finish(n, payload)

    got = []
    with pytest.raises(RemoteServiceError) as err:
        for item in prefetch_grouped(lookup, finish, iter(range(1, 2001)), 10, 2):
            got.append(item)
    assert err.value.run_wide and err.value.status in (401, 403)
    assert len(rec.groups) < 10  # far from the 200 groups there were
    assert len(got) < 100
