# -*- coding: utf-8 -*-
"""thumbnail_photo and thumbnail_photo_info option handling, driven through AnsibleModule.

Everything here is refused before any network I/O (the server is an address where nothing
listens, so reaching the network would give a different error). Behaviour against a directory
is tested in tests/integration against the real Samba DC.
"""

from __future__ import absolute_import, division, print_function

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.photosync.ad.plugins.modules import thumbnail_photo, thumbnail_photo_info

NOWHERE = {"server": ["127.0.0.1:9"], "username": "svc@example.test", "password": "S3cret-value!"}


def run(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("args,message", [
    ({"identity": "alice"}, "state is present but any of the following are missing: path, url"),
    ({"identity": "alice", "path": "a.jpg", "url": "https://x/a.jpg"}, "mutually exclusive"),
    ({"identity": "alice", "state": "absent", "path": "a.jpg"}, "takes no source"),
    ({"identity": "alice", "path": "a.jpg", "backup": True}, "backup_dir"),
    ({"identity": "alice", "path": "a.jpg", "tls_mode": "none"}, "refusing a simple bind without TLS"),
    ({"identity": "alice", "path": "a.jpg", "max_bytes": 200000}, "max_bytes"),
    ({"identity": "alice", "path": "a.jpg", "fit": "stretch"}, "fit"),
])
def test_thumbnail_photo_refuses_bad_options_before_connecting(capsys, args, message):
    merged = dict(NOWHERE)
    merged.update(args)
    result = run(thumbnail_photo, merged, capsys)
    assert result["failed"] and message in result["msg"], result["msg"]
    assert "S3cret-value!" not in json.dumps(result)


def test_thumbnail_photo_unreachable_server_is_named(capsys):
    result = run(thumbnail_photo, dict(NOWHERE, identity="alice", path="a.jpg"), capsys)
    assert result["failed"] and "127.0.0.1:9 (connection refused)" in result["msg"]


@pytest.mark.parametrize("args,message", [
    ({}, "one of the following is required: identities, filter"),
    ({"identities": ["a"], "filter": "(cn=*)"}, "mutually exclusive"),
    ({"identities": ["a"], "password": None, "username": None}, "anonymous"),
])
def test_thumbnail_photo_info_refuses_bad_options(capsys, args, message):
    merged = dict(NOWHERE)
    merged.update(args)
    result = run(thumbnail_photo_info, merged, capsys)
    assert result["failed"] and message in result["msg"], result["msg"]


def test_connection_options_come_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("PHOTOSYNC_LDAP_SERVER", "127.0.0.1:9,localhost:10")
    monkeypatch.setenv("PHOTOSYNC_LDAP_USERNAME", "svc@example.test")
    monkeypatch.setenv("PHOTOSYNC_LDAP_PASSWORD", "from-env-secret")
    result = run(thumbnail_photo_info, {"identities": ["alice"]}, capsys)
    assert "127.0.0.1:9 (connection refused)" in result["msg"] and "localhost:10" in result["msg"]
    assert "from-env-secret" not in json.dumps(result)


HEAVY = ("requests", "urllib3", "msal", "spnego", "requests_ntlm", "cryptography", "gssapi")

_PROBE = r"""
import io, json, sys
from ansible.module_utils.testing import patch_module_args
from ansible_collections.photosync.ad.plugins.modules import {module} as module
out, sys.stdout = sys.stdout, io.StringIO()
with patch_module_args(json.loads(sys.argv[1])):
    try:
        module.main()
    except SystemExit:
        pass
result, sys.stdout = sys.stdout.getvalue(), out
print(json.dumps(dict(result=json.loads(result), loaded=[m for m in json.loads(sys.argv[2]) if m in sys.modules])))
"""


@pytest.mark.parametrize("module,args", [
    ("thumbnail_photo", {"identity": "alice", "path": "a.jpg"}),
    ("thumbnail_photo_sync", {"photo_dir": "."}),
    ("thumbnail_photo_info", {"identities": ["alice"]}),
])
def test_a_task_with_a_file_source_loads_no_http_stack(module, args):
    """Regression (issue 8, item 12): every task imported requests, NTLM, MSAL and cryptography, even with
    a file source - failed before the fix.  The module runs in a fresh interpreter up to the LDAP connect."""
    import os
    import subprocess
    import sys

    merged = dict(NOWHERE, **args)
    # The folder that holds ansible_collections/, wherever this run put the collection.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(thumbnail_photo.__file__))))
    root = os.path.dirname(os.path.dirname(os.path.dirname(root)))
    env = dict(os.environ, PYTHONPATH=root)
    done = subprocess.run([sys.executable, "-c", _PROBE.format(module=module), json.dumps(merged), json.dumps(HEAVY)],
                          capture_output=True, text=True, env=env, check=True, timeout=120)
    report = json.loads(done.stdout)
    assert report["result"]["failed"] and "connection refused" in report["result"]["msg"], report["result"]
    assert report["loaded"] == []


# What a thumbnail_photo task with a file source must not import: the URL, SharePoint, Graph and HTTP code,
# backups (none asked for) and Pillow's colour management (the photo has no ICC profile).
NOT_FOR_A_FILE_TASK = tuple("ansible_collections.photosync.ad.plugins.module_utils." + name for name in (
    "_http", "_msauth", "_sharepoint", "_graph", "_source_url", "_prefetch", "_backup", "_files")) + ("PIL.ImageCms",)


def test_a_file_source_task_compiles_only_what_it_runs():
    """Issue 8 item 12: Ansible ships module_utils as source and Python compiles every imported file on
    every task (twice, in zipimport), so code a task does not run is paid for by every task.  _sources
    imported _graph, _sharepoint and _source_url (and _http, _msauth) for their option specs, _reconcile
    imported _backup, _image imported ImageCms: failed before the fix."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(thumbnail_photo.__file__))))
    root = os.path.dirname(os.path.dirname(os.path.dirname(root)))
    merged = dict(NOWHERE, identity="alice", path="a.jpg")
    done = subprocess.run([sys.executable, "-c", _PROBE.format(module="thumbnail_photo"), json.dumps(merged),
                           json.dumps(NOT_FOR_A_FILE_TASK)],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=root), check=True,
                          timeout=120)
    report = json.loads(done.stdout)
    assert report["result"]["failed"] and "connection refused" in report["result"]["msg"], report["result"]
    assert report["loaded"] == []


@pytest.mark.parametrize("module,args", [
    (thumbnail_photo, {"identity": "alice", "path": "a.jpg"}),
    (thumbnail_photo_info, {"identities": ["alice"]}),
])
def test_no_server_is_a_clear_error_not_a_traceback(capsys, monkeypatch, module, args):
    """Regression: without server (no option, no PHOTOSYNC_LDAP_SERVER) the modules crashed with
    "TypeError: ... missing 'server'" (seen from the sync role); now they say what to set."""
    monkeypatch.delenv("PHOTOSYNC_LDAP_SERVER", raising=False)
    merged = dict(NOWHERE, **args)
    del merged["server"]
    result = run(module, merged, capsys)
    assert result["failed"] and "no directory server given" in result["msg"], result["msg"]
    assert "PHOTOSYNC_LDAP_SERVER" in result["msg"] and "TypeError" not in result.get("exception", "")
