"""thumbnail_photo with SharePoint (NTLM) and Graph (certificate) sources: photos travel from the
SharePoint/Graph test server into the real Samba AD DC, run through ansible-playbook, checked with dcread.

The test server (tests/support/sptest) runs a real NTLM handshake and verifies MSAL's signed client
assertion; certificate validation stays on everywhere (its test CA is passed as ca_cert).
"""

import json
import os

import pytest

import dcread
from playrunner import run_playbook
from sptestserver import SPTestServer

from ansible_collections.photosync.ad.plugins.module_utils import _image

USER = "erin"  # seeded without a photo, outside the delegated OU

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/photosync.ad.ldap:
      server: "{{ dc.server }}"
      ca_cert: "{{ dc.ca_cert }}"
      username: "{{ dc.admin.username }}"
      password: "{{ dc.admin.password }}"
  tasks:
    - name: First run
      photosync.ad.thumbnail_photo: "{{ task_args }}"
      register: first
      ignore_errors: true
    - name: Second run
      photosync.ad.thumbnail_photo: "{{ task_args }}"
      register: second
      ignore_errors: true
      when: run_twice | default(true)
    - name: Hand the results to the test
      ansible.builtin.copy:
        content: "{{ {'first': first, 'second': second} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
"""


@pytest.fixture(scope="module")
def sp(dc, tmp_path_factory):
    state = tmp_path_factory.mktemp("sp")
    server = SPTestServer(str(state), people_from_dc=os.path.join(dc["dir"], "dc.json"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clean(sp, dc):
    sp.reset_faults()
    sp.clear_log()
    dn = dc["users"][USER]["dn"]
    dcread.clear_photo_raw(dn)
    yield dn
    sp.reset_faults()
    dcread.clear_photo_raw(dn)


def sharepoint_options(sp, **overrides):
    # No mysite_url: the photo host is derived from the profile's PictureURL, as most users will leave it.
    return sp.ntlm_options(**dict(dict(auth="ntlm", mysite_url=None), **overrides))


def graph_options(sp, **overrides):
    return sp.certificate_options(**dict(dict(graph_url=sp.urls()["graph_url"].rsplit("/v1.0", 1)[0]), **overrides))


def run(dc, tmp_path, task_args, run_twice=True):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    results_file = tmp_path / "results.json"
    outcome = run_playbook(playbook, dict(dc=dc, task_args=task_args, results_file=str(results_file),
                                          run_twice=run_twice), tmp_path)
    assert outcome.returncode == 0, outcome.stdout[-6000:]
    return json.loads(results_file.read_text())


def expected_from(photo_bytes):
    return _image.normalize(photo_bytes, _image.ImageProfile()).sha256


def test_sharepoint_ntlm_source_sets_the_photo_then_nothing_to_do(dc, sp, clean, tmp_path):
    results = run(dc, tmp_path, dict(identity=USER, sharepoint=sharepoint_options(sp)))
    first, second = results["first"], results["second"]
    assert not first.get("failed"), first.get("msg")
    stored = dcread.read_photo(clean)
    assert first["changed"] and first["action"] == "added"
    assert stored is not None and _image.summarize(stored)["sha256"] == first["after"]["sha256"]
    # What SharePoint serves as the L thumbnail, normalized, is what the directory now holds.
    large = sp.person("%s\\%s" % (sp.domain, USER)).photos.sp("L")
    assert expected_from(large) == first["after"]["sha256"]
    assert first["source"].startswith("SharePoint") and first["source_version"]
    assert not second["changed"] and second["action"] == "unchanged"
    # A real NTLM handshake happened: the first request of a connection is challenged.
    assert any(entry[3] == 401 for entry in sp.request_log)


def test_graph_certificate_source_sets_the_photo_then_nothing_to_do(dc, sp, clean, tmp_path):
    results = run(dc, tmp_path, dict(identity=USER, graph=graph_options(sp)))
    first, second = results["first"], results["second"]
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] and first["action"] == "added"
    assert _image.summarize(dcread.read_photo(clean))["sha256"] == first["after"]["sha256"]
    assert first["source_version"]  # Graph's mediaEtag
    assert not second["changed"]
    token_requests = [e[2] for e in sp.request_log if "/oauth2/v2.0/token" in e[2] and e[3] == 200]
    assert token_requests, "the MSAL certificate flow did not reach the token endpoint"


def test_retry_after_is_waited_out(dc, sp, clean, tmp_path):
    sp.inject(r"GetPropertiesFor", status=429, retry_after="1.5", count=1)
    results = run(dc, tmp_path, dict(identity=USER, sharepoint=sharepoint_options(sp)), run_twice=False)
    assert results["first"]["changed"], results["first"].get("msg")
    profile_calls = [(when, status) for when, dummy, target, status in sp.request_log
                     if "GetPropertiesFor" in target and status in (429, 200)]
    throttled = [i for i, (dummy, status) in enumerate(profile_calls) if status == 429]
    assert throttled, profile_calls
    waited = profile_calls[throttled[0] + 1][0] - profile_calls[throttled[0]][0]
    print("waited %.3f s after 429 Retry-After: 1.5" % waited)
    assert waited >= 1.5


def test_server_errors_are_retried_a_bounded_number_of_times(dc, sp, clean, tmp_path):
    sp.inject(r"GetPropertiesFor", status=503, count=100)
    options = sharepoint_options(sp, retries=2)
    results = run(dc, tmp_path, dict(identity=USER, sharepoint=options), run_twice=False)
    first = results["first"]
    assert first["failed"] and "503" in first["msg"] and first["msg"].startswith(USER)
    attempts = [e[2] for e in sp.request_log if "GetPropertiesFor" in e[2] and e[3] == 503]
    assert len(attempts) == 3  # the first try and two retries
    assert dcread.read_photo(clean) is None


def test_wrong_password_names_ntlm(dc, sp, clean, tmp_path):
    results = run(dc, tmp_path, dict(identity=USER, sharepoint=sharepoint_options(sp, password="wrong")),
                  run_twice=False)
    first = results["first"]
    assert first["failed"] and "401" in first["msg"] and "NTLM" in first["msg"]
    assert "wrong" not in json.dumps(first).replace("wrong password", "")
    assert dcread.read_photo(clean) is None


def test_forbidden_names_the_missing_permission(dc, sp, clean, tmp_path):
    restricted = sharepoint_options(sp, username="%s\\restricted" % sp.domain, password=sp.restricted_password)
    results = run(dc, tmp_path, dict(identity=USER, sharepoint=restricted), run_twice=False)
    first = results["first"]
    assert first["failed"] and "403" in first["msg"]
    assert "User Profile" in first["msg"] or "permission" in first["msg"].lower()
    assert dcread.read_photo(clean) is None


def test_graph_without_user_read_all_names_the_permission(dc, sp, clean, tmp_path):
    roles = list(sp.app_roles)
    sp.app_roles[:] = []
    try:
        results = run(dc, tmp_path, dict(identity=USER, graph=graph_options(sp)), run_twice=False)
    finally:
        sp.app_roles[:] = roles
    first = results["first"]
    assert first["failed"] and "403" in first["msg"] and "User.Read.All" in first["msg"]
    assert dcread.read_photo(clean) is None


def test_sharepoint_online_placeholder_profile_is_not_written(dc, sp, clean, tmp_path):
    """Issue 8 item 5, end to end: a SharePoint Online profile that SharePoint shows as a placeholder
    (top-level PictureUrl null, SPS-PicturePlaceholderState 1, PictureURL still naming the old
    _MThumb.jpg, which is still served) was written into thumbnailPhoto.  Failed before the fix: the
    task reported 'added' and the stale photo was in the directory."""
    person = sp.person("%s\\%s" % (sp.domain, USER))
    options = sp.certificate_options(site_url=sp.urls()["spo_site_url"], flavor="online")
    person.placeholder = True
    try:
        results = run(dc, tmp_path, dict(identity=USER, sharepoint=options), run_twice=False)
    finally:
        person.placeholder = False
    first = results["first"]
    assert first["failed"] and "has no photo for this user" in first["msg"], first
    assert dcread.read_photo(clean) is None
    stale = [e for e in sp.request_log if "Thumb.jpg" in e[2]]
    assert stale == []  # the old file was not even downloaded
    # the same profile without the placeholder state is read and written
    results = run(dc, tmp_path, dict(identity=USER, sharepoint=options), run_twice=False)
    assert results["first"]["changed"], results["first"].get("msg")
    assert dcread.read_photo(clean) is not None


def test_sharepoint_outage_of_the_profile_lookup_is_an_error_not_no_photo(dc, sp, clean, tmp_path):
    """Issue 8 item 6, end to end: a 500 from the profile lookup was 'no profile' without a retry.
    Now it is retried and then the task fails naming HTTP 500; nothing is written."""
    sp.inject(r"GetPropertiesFor", status=500, count=100)
    results = run(dc, tmp_path, dict(identity=USER, sharepoint=sharepoint_options(sp, retries=2)), run_twice=False)
    first = results["first"]
    assert first["failed"] and "HTTP 500" in first["msg"] and "no profile" in first["msg"]
    assert len([e for e in sp.request_log if "GetPropertiesFor" in e[2] and e[3] == 500]) == 3
    assert dcread.read_photo(clean) is None
