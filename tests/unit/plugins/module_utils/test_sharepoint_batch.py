# -*- coding: utf-8 -*-
"""SharePoint profile lookups in OData $batch requests (SharePointSource.prefetch) against the test server
(tests/support/sptest, real NTLM handshake, real MSAL certificate flow, certificates validated):
the same answers as one request per person, per-part errors and retries, throttling, the form digest,
and the fall back to one request per person on a server without $batch (SharePoint 2013)."""

from __future__ import absolute_import, division, print_function

import pytest

from sptestserver import SPTestServer

from ansible_collections.photosync.ad.plugins.module_utils import _sharepoint as sp
from ansible_collections.photosync.ad.plugins.module_utils._errors import (
    ConfigurationError, RemoteServiceError, SourceError)
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser

# The default people (every kind of answer) and some generated ones (3 in 4 with a photo).
NAMES = ["alice", "bob", "carol", "o'brien", u"j\u00fcrgen", "eve", "noprofile", "frank", "gone404"] + [
    "bulk%04d" % i for i in range(1, 37)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = SPTestServer(str(tmp_path_factory.mktemp("sptest-batch")), generate=60, http=True)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def srv(server):
    server.reset_faults()
    server.clear_log()
    server.batch, server.batch_refusal = "auto", 404
    server.batch_line_end, server.batch_quote_boundary = "\r\n", False
    yield server
    server.reset_faults()
    server.batch = "auto"


def user(sam):
    return DirectoryUser("CN=%s,DC=example,DC=test" % sam, sam, "%s@example.test" % sam, None, None, None, sam)


def source(srv, slept=None, **options):
    src = sp.build_remote_source({"sharepoint": srv.ntlm_options(**options)}, netbios_domain="EXAMPLE")
    src.client.http.policy.sleep = (slept.append if slept is not None else (lambda seconds: None))
    return src


def fetch_all(src, names=NAMES):
    return dict((person.sam_account_name, got) for person, got in src.prefetch(iter([user(n) for n in names])))


def data(got):
    return dict((name, value.data if hasattr(value, "data") else value) for name, value in got.items())


def log(srv, needle, status=None):
    return [e for e in srv.request_log if needle in e[2] and (status is None or e[3] == status)]


def profile_gets(srv, name=None):
    return [e for e in log(srv, "GetPropertiesFor") if e[1] == "GET" and e[3] != 401 and (
        name is None or ("%5C" + name + "'") in e[2])]


def batch_posts(srv, status=None):
    return [e for e in log(srv, "/_api/$batch", status) if e[1] == "POST" and e[3] != 401]


# --- the same answers, fewer requests ----------------------------------------------------------------------

@pytest.mark.parametrize("odata", ["verbose", "nometadata"])
def test_batched_answers_are_the_answers_of_one_request_per_person(srv, odata):
    single = fetch_all(source(srv, odata=odata, batch_size=0))
    srv.clear_log()
    batched = fetch_all(source(srv, odata=odata))
    assert data(batched) == data(single)
    assert batched["alice"].data == srv.person("EXAMPLE\\alice").photos.sp("L")
    assert batched["bob"].data == srv.person("EXAMPLE\\bob").photos.sp("L")  # PictureUrl null, PictureURL set
    assert batched["alice"].version == single["alice"].version and batched["alice"].origin == single["alice"].origin
    for nobody in ("carol", "noprofile", "gone404", "frank"):  # no photo, null profile, 404 not found, placeholder
        assert batched[nobody] is None, nobody
    # 45 people: 3 batches (20 + 20 + 5), no profile GET at all, one form digest.
    assert sorted(b["parts"] for b in srv.batch_log) == [5, 20, 20]
    assert len(batch_posts(srv, 200)) == 3 and profile_gets(srv) == []
    assert len(log(srv, "/_api/contextinfo", 200)) == 1
    photos = [e for e in srv.request_log if "Thumb.jpg" in e[2] and e[3] == 200]
    assert len(photos) == sum(1 for v in batched.values() if v is not None)


@pytest.mark.parametrize("size, batches", [(7, [7] * 6 + [3]), (100, [45])])
def test_batch_size_sets_the_parts_per_request(srv, size, batches):
    got = fetch_all(source(srv, batch_size=size))
    assert len(got) == len(NAMES) and sorted(b["parts"] for b in srv.batch_log) == sorted(batches)


@pytest.mark.parametrize("size", [0, 1])
def test_batch_size_0_or_1_is_one_request_per_person(srv, size):
    fetch_all(source(srv, batch_size=size))
    assert srv.batch_log == [] and batch_posts(srv) == [] and len(profile_gets(srv)) == len(NAMES)


@pytest.mark.parametrize("value", [-1, 101, "many"])
def test_batch_size_out_of_range_is_refused_before_any_request(srv, value):
    with pytest.raises(ConfigurationError) as err:
        sp.SharePointClient(srv.ntlm_options(batch_size=value))
    assert "batch_size" in str(err.value)
    assert srv.request_log == []


@pytest.mark.parametrize("line_end, quoted", [("\n", False), ("\r\n", True), ("\n", True)],
                         ids=["lf", "quoted-boundary", "lf-quoted-boundary"])
def test_answers_with_lf_lines_or_a_quoted_boundary_read_the_same(srv, line_end, quoted):
    expected = data(fetch_all(source(srv, batch_size=0), NAMES[:12]))
    srv.batch_line_end, srv.batch_quote_boundary = line_end, quoted
    assert data(fetch_all(source(srv), NAMES[:12])) == expected
    assert len(srv.batch_log) == 1


def test_sharepoint_online_batches_with_the_app_token_and_no_form_digest(srv):
    online = srv.certificate_options(site_url=srv.urls()["spo_site_url"], flavor="online")
    names = ["alice", "bob", "carol", "noprofile", "bulk0001", "bulk0004"]
    people = [DirectoryUser("CN=%s,DC=x" % n, n, "%s@example.test" % n, None, None, None, n) for n in names]
    single = sp.build_remote_source({"sharepoint": dict(online, batch_size=0)})
    expected = dict((p.sam_account_name, g.data if g else None) for p, g in single.prefetch(iter(people)))
    srv.clear_log()
    batched = sp.build_remote_source({"sharepoint": online})
    got = dict((p.sam_account_name, g.data if g else None) for p, g in batched.prefetch(iter(people)))
    assert got == expected and got["alice"] and got["carol"] is None
    assert len(batch_posts(srv, 200)) == 1 and log(srv, "contextinfo") == []


# --- per-part problems -----------------------------------------------------------------------------------

def test_a_part_answered_500_once_is_retried_alone_and_the_photo_arrives(srv):
    slept = []
    srv.inject(r"GetPropertiesFor.*%5Cbob'", status=500, count=1)
    got = fetch_all(source(srv, slept=slept))
    assert got["bob"].data == srv.person("EXAMPLE\\bob").photos.sp("L")
    assert len(profile_gets(srv, "bob")) == 1 and len(profile_gets(srv)) == 1  # only bob, alone, once
    assert len(slept) == 1  # the backoff before the retry


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_part_that_keeps_failing_is_that_persons_error_after_the_retries_never_no_photo(srv, status):
    retries = 2
    srv.inject(r"GetPropertiesFor.*%5Cbob'", status=status, count=None)
    got = fetch_all(source(srv, retries=retries))
    assert isinstance(got["bob"], RemoteServiceError) and got["bob"].status == status
    assert got["bob"].user == "bob" and not got["bob"].run_wide
    assert "never taken as 'no profile'" in str(got["bob"])
    # 1 try inside the batch + `retries` alone = 1 + retries in all
    assert len(profile_gets(srv, "bob")) == retries
    assert got["alice"].data == srv.person("EXAMPLE\\alice").photos.sp("L") and got["carol"] is None


def test_a_part_that_fails_with_retries_0_is_an_error_without_another_request(srv):
    srv.inject(r"GetPropertiesFor.*%5Cbob'", status=500, count=None)
    got = fetch_all(source(srv, retries=0))
    assert isinstance(got["bob"], RemoteServiceError) and got["bob"].status == 500
    assert profile_gets(srv) == []


def test_a_throttled_part_waits_its_retry_after_then_is_read_alone(srv):
    slept = []
    srv.inject(r"GetPropertiesFor.*%5Calice'", status=429, retry_after="2.5", count=1)
    got = fetch_all(source(srv, slept=slept))
    assert got["alice"].data == srv.person("EXAMPLE\\alice").photos.sp("L")
    assert slept == [2.5] and len(profile_gets(srv, "alice")) == 1


def test_a_part_asking_to_wait_longer_than_max_retry_wait_is_an_error_at_once(srv):
    srv.inject(r"GetPropertiesFor.*%5Calice'", status=429, retry_after="600", count=None)
    got = fetch_all(source(srv, max_retry_wait=60))
    assert isinstance(got["alice"], RemoteServiceError) and got["alice"].status == 429
    assert "max_retry_wait" in str(got["alice"]) and profile_gets(srv) == []


@pytest.mark.parametrize("fault", [dict(malformed=True), dict(status=200, body="{\"d\": {\"AccountName\": "),
                                   dict(status=200, body="<html>Sign in</html>"), dict(status=200, body="")],
                         ids=["not-http", "bad-json", "html", "empty"])
def test_a_malformed_part_is_an_error_naming_the_person_and_the_others_are_read(srv, fault):
    srv.inject(r"GetPropertiesFor.*%5Cbulk0005'", count=None, **fault)
    got = fetch_all(source(srv))
    assert isinstance(got["bulk0005"], SourceError) and got["bulk0005"].user == "bulk0005"
    assert not got["bulk0005"].run_wide
    others = dict((k, v) for k, v in data(got).items() if k != "bulk0005")
    srv.reset_faults()
    expected = data(fetch_all(source(srv, batch_size=0)))
    assert others == dict((k, v) for k, v in expected.items() if k != "bulk0005")


def test_a_403_part_stops_the_run_with_the_permission_hint(srv):
    srv.inject(r"GetPropertiesFor.*%5Cbulk0003'", status=403, count=None)
    with pytest.raises(RemoteServiceError) as err:
        fetch_all(source(srv))
    assert err.value.status == 403 and err.value.run_wide and "User Profile" in str(err.value)


def test_a_reader_without_profile_rights_stops_the_run(srv):
    restricted = source(srv, username="%s\\restricted" % srv.domain, password=srv.restricted_password)
    with pytest.raises(RemoteServiceError) as err:
        fetch_all(restricted)
    assert err.value.status == 403 and err.value.run_wide and "Full Read" in str(err.value)


def test_a_wrong_password_stops_the_run_before_any_batch(srv):
    with pytest.raises(RemoteServiceError) as err:
        fetch_all(source(srv, password="wrong"))
    assert err.value.status == 401 and err.value.run_wide and "NTLM" in str(err.value)
    assert batch_posts(srv) == [] and profile_gets(srv) == []


def test_an_answer_with_fewer_parts_than_asked_reads_the_missing_people_alone(srv):
    one_part = ("--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
                "HTTP/1.1 200 OK\r\nCONTENT-TYPE: application/json;odata=verbose\r\n\r\n{\"d\": {\"AccountName\": null, "
                "\"PictureUrl\": null, \"UserProfileProperties\": {\"results\": []}}}\r\n--b--\r\n")
    srv.inject(r"\$batch", method="POST", status=200, body=one_part, count=1,
               headers={"Content-Type": "multipart/mixed; boundary=b"})
    got = fetch_all(source(srv), ["alice", "bob", "carol"])
    assert got["alice"] is None  # the one part that came back: a null profile
    assert got["bob"].data == srv.person("EXAMPLE\\bob").photos.sp("L") and got["carol"] is None
    assert len(profile_gets(srv)) == 2


# --- the batch request as a whole ---------------------------------------------------------------------------

def test_a_throttled_batch_waits_retry_after_and_is_sent_again(srv):
    slept = []
    srv.inject(r"\$batch", method="POST", status=429, retry_after="3", count=1)
    got = fetch_all(source(srv, slept=slept), NAMES[:20])
    assert got["alice"].data == srv.person("EXAMPLE\\alice").photos.sp("L")
    assert 3 in slept and len(batch_posts(srv, 429)) == 1 and len(batch_posts(srv, 200)) == 1
    assert profile_gets(srv) == []


def test_a_batch_still_throttled_after_the_retries_is_an_error_for_its_people_not_a_flood(srv):
    srv.inject(r"\$batch", method="POST", status=503, retry_after="1", count=None)
    got = fetch_all(source(srv, retries=2), NAMES[:20])
    assert all(isinstance(v, RemoteServiceError) and v.status == 503 and not v.run_wide for v in got.values())
    assert got["alice"].user == "alice" and got["bob"].user == "bob"
    assert len(batch_posts(srv, 503)) == 3 and profile_gets(srv) == []


@pytest.mark.parametrize("fault", [dict(status=500), dict(status=502), dict(drop=True)], ids=["500", "502", "drop"])
def test_a_batch_that_keeps_failing_is_split_so_each_person_is_read_alone(srv, fault):
    srv.inject(r"\$batch", method="POST", count=None, **fault)
    got = fetch_all(source(srv, retries=1), NAMES[:10])
    expected = data(fetch_all(source(srv, batch_size=0), NAMES[:10]))
    assert data(got) == expected
    assert len([e for e in srv.request_log if "$batch" in e[2] and e[3] != 401]) == 2  # 1 + retries
    assert srv.batch_log == []


def test_a_stale_form_digest_is_renewed_once(srv):
    src = source(srv)
    fetch_all(src, NAMES[:5])
    srv.expire_digests()  # as after FormDigestTimeoutSeconds, earlier than the client expected
    srv.clear_log()
    got = fetch_all(src, NAMES[:5])
    assert got["alice"].data == srv.person("EXAMPLE\\alice").photos.sp("L")
    assert [e[3] for e in batch_posts(srv)] == [403, 200] and len(log(srv, "contextinfo", 200)) == 1
    assert src.warnings() == []


def test_a_form_digest_that_fails_for_a_while_does_not_turn_batching_off(srv):
    srv.inject(r"/_api/contextinfo", method="POST", status=503, count=None)
    src = source(srv, retries=1)
    got = fetch_all(src, NAMES[:10])
    expected = data(fetch_all(source(srv, batch_size=0), NAMES[:10]))
    assert data(got) == expected and src.warnings() == [] and batch_posts(srv) == []
    srv.reset_faults()
    srv.clear_log()
    assert data(fetch_all(src, NAMES[:10])) == expected
    assert len(batch_posts(srv, 200)) == 1 and profile_gets(srv) == [] and src.warnings() == []


def test_a_site_without_contextinfo_is_read_one_request_per_person(srv):
    srv.inject(r"/_api/contextinfo", method="POST", status=404, count=None)
    src = source(srv)
    got = fetch_all(src, NAMES[:10])
    assert data(got) == data(fetch_all(source(srv, batch_size=0), NAMES[:10]))
    assert len(src.warnings()) == 1 and "form digest" in src.warnings()[0] and batch_posts(srv) == []


# --- a server without $batch: SharePoint 2013 -------------------------------------------------------------------

@pytest.mark.parametrize("refusal", [404, 400, 405, 501])
def test_a_server_without_batch_is_read_one_request_per_person_with_nobody_lost(srv, refusal):
    expected = data(fetch_all(source(srv, batch_size=0)))
    srv.batch, srv.batch_refusal = "off", refusal
    srv.clear_log()
    src = source(srv)
    got = fetch_all(src)
    assert data(got) == expected and len(got) == len(NAMES)
    # One refused batch (the first one is sent alone, before any other), then one GET per person.
    assert [e[3] for e in batch_posts(srv)] == [refusal]
    assert len(profile_gets(srv)) == len(NAMES)
    warnings = src.warnings()
    assert len(warnings) == 1 and "$batch" in warnings[0] and "HTTP %d" % refusal in warnings[0]
    assert "batch_size" in warnings[0] and "2013" in warnings[0]
    # The same source later in the run: no second attempt, no second warning.
    srv.clear_log()
    fetch_all(src, NAMES[:10])
    assert batch_posts(srv) == [] and len(src.warnings()) == 1


def test_sharepoint_2013_refuses_batch_by_default(tmp_path):
    with SPTestServer(str(tmp_path), onprem_version="2013") as old:
        src = sp.build_remote_source({"sharepoint": old.ntlm_options()}, netbios_domain="EXAMPLE")
        got = dict((p.sam_account_name, r) for p, r in src.prefetch(iter([user("alice"), user("carol")])))
        assert got["alice"].data == old.person("EXAMPLE\\alice").photos.sp("L") and got["carol"] is None
        assert [e[3] for e in old.request_log if "$batch" in e[2] and e[3] != 401] == [404]
        assert len(src.warnings()) == 1


def test_a_redirected_batch_is_not_followed_and_counts_as_no_batch(srv):
    other = srv.http_url + "/elsewhere/_api/$batch"  # another origin (scheme and port)
    srv.inject(r"\$batch", method="POST", status=302, headers={"Location": other}, count=None)
    got = fetch_all(source(srv), NAMES[:6])
    assert got["alice"].data == srv.person("EXAMPLE\\alice").photos.sp("L")
    assert not any("/elsewhere/" in e[2] for e in srv.request_log)  # neither credentials nor the body went there
    assert len(profile_gets(srv)) == 6
