# -*- coding: utf-8 -*-
"""sync_wait's progress line: what a person sees while a long sync runs."""

from __future__ import absolute_import, division, print_function

from ansible_collections.photosync.ad.plugins.action.sync_wait import progress_line


def test_processed_of_total_with_percent_phase_and_time():
    line = progress_line("photosync [h] sync", {"phase": "reconcile", "processed": 1200, "total": 2000}, 42.7)
    assert line == "photosync [h] sync: 1200/2000 people (60%), reconcile, 42 s"


def test_long_runs_show_minutes_and_hours():
    assert progress_line("p", {"processed": 1, "total": 4}, 125).endswith("(25%), running, 2 min 05 s")
    assert progress_line("p", {"processed": 1, "total": 4}, 3 * 3600 + 61).endswith(", 3 h 01 min")


def test_percent_never_above_100_and_no_division_by_zero():
    assert "(100%)" in progress_line("p", {"processed": 5, "total": 4}, 0)
    assert progress_line("p", {"phase": "search", "processed": 0, "total": 0}, 1) == "p: 0 people, search, 1 s"


def test_no_progress_file_yet_or_garbage_still_says_it_runs():
    assert progress_line("p", None, 3) == "p: running, 3 s"
    assert progress_line("p", ["not", "a", "dict"], 3) == "p: running, 3 s"
    assert progress_line("p", {"phase": "connect"}, 0) == "p: connect, 0 s"
