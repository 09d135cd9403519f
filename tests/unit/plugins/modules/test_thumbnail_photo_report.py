# -*- coding: utf-8 -*-
"""thumbnail_photo_report driven through AnsibleModule: merge, re-render, check mode, bad input."""

from __future__ import absolute_import, division, print_function

import json
import os
import stat

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.photosync.ad.plugins.modules import thumbnail_photo_report

import reportdata


def run(args, capsys, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            thumbnail_photo_report.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def two_runs(tmp_path):
    _w, p1 = reportdata.write_report(tmp_path / "ou1", reportdata.people_by_status(["add", "in_sync", "error"]),
                                     formats=["json"])
    _w, p2 = reportdata.write_report(tmp_path / "ou2", reportdata.people_by_status(["update", "update"], start=10),
                                     formats=["json"])
    return [p1["json"], p2["json"]]


def test_merges_reports_and_returns_the_counts(tmp_path, capsys, two_runs):
    dest = tmp_path / "merged"
    result = run({"src": two_runs, "dest": str(dest)}, capsys, check_mode=True)
    assert result["changed"] is True and not dest.exists()
    result = run({"src": two_runs, "dest": str(dest)}, capsys)
    assert result["changed"] is True
    assert result["total"] == 5 and result["summary"]["not_in_sync"] == 4
    assert result["counts"] == {"in_sync": 1, "add": 1, "update": 2, "remove": 0, "no_source": 0, "conflict": 0,
                                "invalid_source": 0, "error": 1}
    assert sorted(result["reports"]) == ["csv", "html", "json", "junit"]
    assert stat.S_IMODE(os.stat(str(dest)).st_mode) == 0o700
    for path in result["reports"].values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "data:image" not in json.dumps(result)  # no photo bytes in results
    again = run({"src": two_runs, "dest": str(dest)}, capsys)
    assert again["changed"] is False
    assert run({"src": two_runs, "dest": str(dest)}, capsys, check_mode=True)["changed"] is False


def test_renders_only_the_formats_asked(tmp_path, capsys, two_runs):
    result = run({"src": two_runs[:1], "dest": str(tmp_path / "view"), "formats": ["html"]}, capsys)
    assert list(result["reports"]) == ["html"] and os.listdir(str(tmp_path / "view")) == ["photosync-report.html"]


@pytest.mark.parametrize("args,message", [
    ({"formats": ["pdf"]}, "value of formats must be one or more of"),
    ({"src": ["/nonexistent/photosync-report.json"]}, "cannot read the report /nonexistent/photosync-report.json"),
])
def test_refuses_bad_input(tmp_path, capsys, two_runs, args, message):
    merged = dict({"src": two_runs, "dest": str(tmp_path / "x")}, **args)
    result = run(merged, capsys)
    assert result["failed"] and message in result["msg"], result["msg"]
