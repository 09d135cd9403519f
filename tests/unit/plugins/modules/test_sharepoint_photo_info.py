# -*- coding: utf-8 -*-
"""sharepoint_photo_info, driven through AnsibleModule with patch_module_args.

Option validation needs no server; everything else runs the module against the
SharePoint/Graph test server (tests/support/sptestserver.py) on loopback.
"""

from __future__ import absolute_import, division, print_function

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.photosync.ad.plugins.modules import sharepoint_photo_info


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            sharepoint_photo_info.main()
    out = capsys.readouterr().out
    return json.loads(out)


def test_needs_exactly_one_source(capsys):
    result = run_module({"accounts": ["EX\\a"]}, capsys)
    assert result["failed"] and "sharepoint" in result["msg"] and "graph" in result["msg"]
    result = run_module({"accounts": ["EX\\a"], "sharepoint": {"site_url": "https://sp.invalid"},
                         "graph": {"token": "graph-token-value"}}, capsys)
    assert result["failed"] and "mutually exclusive" in result["msg"]


def test_needs_accounts_or_all(capsys):
    result = run_module({"sharepoint": {"site_url": "https://sp.invalid", "username": "EX\\u", "password": "p"}},
                        capsys)
    assert result["failed"] and "accounts" in result["msg"]


def test_secrets_are_no_log(capsys):
    result = run_module({"sharepoint": {"site_url": "https://sp.invalid", "password": "Sup3rS3cret!",
                                        "token": "tok-12345"}, "all": True, "accounts": ["x"]}, capsys)
    assert result["failed"]
    assert "Sup3rS3cret!" not in json.dumps(result) and "tok-12345" not in json.dumps(result)
