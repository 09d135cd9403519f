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


# --- against the SharePoint/Graph test server -------------------------------------------------

import base64  # noqa: E402
import hashlib  # noqa: E402
import os  # noqa: E402

from sptestserver import SPTestServer  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = SPTestServer(str(tmp_path_factory.mktemp("sptest-module")), generate=1200, startrow_cap=500)
    srv.start()
    yield srv
    srv.stop()


def ntlm(srv, **kw):
    return srv.ntlm_options(**kw)


def test_accounts_with_download_and_content(server, capsys, tmp_path):
    result = run_module({"sharepoint": ntlm(server), "download_dir": str(tmp_path), "include_content": True,
                         "accounts": ["EXAMPLE\\alice", "EXAMPLE\\carol", "EXAMPLE\\o'brien", "EXAMPLE\\noprofile",
                                      u"EXAMPLE\\j\u00fcrgen"]}, capsys)
    assert not result.get("failed") and result["changed"] is False
    by = dict((p["account"].lower(), p) for p in result["photos"])  # SharePoint lower-cases claims
    alice = by["i:0#.w|example\\alice"]
    expected = server.person("EXAMPLE\\alice").photos.sp("L")
    assert alice["has_photo"] and alice["sha256"] == hashlib.sha256(expected).hexdigest()
    assert alice["bytes"] == len(expected) and alice["width"] and alice["height"] and alice["version"]
    assert base64.b64decode(alice["content"]) == expected
    with open(alice["file"], "rb") as handle:
        assert handle.read() == expected
    assert os.path.dirname(alice["file"]) == str(tmp_path) and os.path.basename(alice["file"]) == "example_alice.jpg"
    assert by["i:0#.w|example\\carol"]["has_photo"] is False and "content" not in by["i:0#.w|example\\carol"]
    assert by["i:0#.w|example\\noprofile"]["has_photo"] is False
    assert by[u"i:0#.w|example\\j\u00fcrgen"]["has_photo"] and "Profilbilder" in by[u"i:0#.w|example\\j\u00fcrgen"]["picture_url"]
    assert sorted(os.listdir(str(tmp_path))) == sorted(["example_alice.jpg", "example_o'brien.jpg", u"example_j\u00fcrgen.jpg"])


def test_all_people_across_pages(server, capsys):
    server.clear_log()
    result = run_module({"sharepoint": ntlm(server), "all": True, "_ansible_check_mode": True}, capsys)
    assert not result.get("failed"), result.get("msg")
    photos = result["photos"]
    expected = [p for p in server.people.people if p.profile == "ok"]
    assert len(photos) == len(expected) >= 1200
    assert sum(1 for p in photos if p["has_photo"]) == sum(1 for p in expected if p.has_photo)
    assert not any("error" in p for p in photos)
    searches = [e for e in server.request_log if "/_api/search/query" in e[2] and e[3] == 200]
    print("all: %d people, %d with photo, %d search pages" % (
        len(photos), sum(1 for p in photos if p["has_photo"]), len(searches)))
    assert len(searches) >= 3
    # the module assumes SharePoint's 50,000 limit; this server refuses startrow > 500 with 500,
    # so the module must have switched to IndexDocId paging on the first refusal
    assert any("IndexDocId" in e[2] for e in searches)
    assert len([e for e in server.request_log if "/_api/search/query" in e[2] and e[3] == 500]) == 1


def test_graph_accounts(server, capsys):
    graph = server.certificate_options(graph_url=server.url + "/graph", photo_size="96x96")
    result = run_module({"graph": graph, "accounts": ["alice@example.test", "carol@example.test"]}, capsys)
    alice, carol = result["photos"]
    assert alice["has_photo"] and (alice["width"], alice["height"]) == (96, 96) and alice["version"]
    assert carol["has_photo"] is False


def test_auth_failure_fails_with_hint(server, capsys):
    result = run_module({"sharepoint": ntlm(server, password="not-the-password"), "accounts": ["EXAMPLE\\alice"]},
                        capsys)
    assert result["failed"] and "401" in result["msg"] and "NTLM" in result["msg"]
    assert "not-the-password" not in json.dumps(result)


def test_untrusted_certificate_stops_the_task_with_a_readable_reason(server, capsys):
    # Without the test CA the server's certificate cannot be validated: the same for every person,
    # so the task fails instead of returning one error per person.
    opts = ntlm(server)
    opts.pop("ca_cert")
    result = run_module({"sharepoint": opts, "accounts": ["EXAMPLE\\alice", "EXAMPLE\\bob"]}, capsys)
    assert result["failed"] and "photos" not in result
    assert "certificate verify failed: unable to get local issuer certificate" in result["msg"]
    assert "ca_cert" in result["msg"]


def test_download_dir_is_created(server, capsys, tmp_path):
    target = tmp_path / "new" / "folder"
    result = run_module({"sharepoint": ntlm(server), "download_dir": str(target), "accounts": ["EXAMPLE\\alice"]},
                        capsys)
    assert not result.get("failed"), result.get("msg")
    assert os.path.isfile(result["photos"][0]["file"]) and os.path.dirname(result["photos"][0]["file"]) == str(target)
