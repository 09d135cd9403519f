# -*- coding: utf-8 -*-
"""Run ``thumbnail_photo_sync`` in-process against the test DC, as the integration tests do.

``run(dc, capsys, check_mode=False, bind=None, **args)`` -> the module's result dict (failed ones
too). It binds as the DC's Administrator, or as ``bind`` ({"username", "password"}) when given;
``args`` are the module's other options.
"""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.photosync.ad.plugins.modules import thumbnail_photo_sync


def run(dc, capsys, check_mode=False, bind=None, **args):
    account = bind or dc["admin"]
    params = dict(server=[dc["server"]], ca_cert=dc["ca_cert"], username=account["username"],
                  password=account["password"], _ansible_check_mode=check_mode)
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            thumbnail_photo_sync.main()
    return json.loads(capsys.readouterr().out)
