"""thumbnail_photo_sync over SharePoint with profile lookups in $batch requests (issue 11's remote target),
against the real Samba DC and the SharePoint test server (tests/support/sptest: real NTLM handshake, form
digest, $batch answered part by part).  The directory is read back with dcread (ldapsearch), never with the
collection.

- the batched run writes exactly what the one-request-per-person run writes, with the requests batching
  promises: ceil(N / batch_size) batch requests, one form digest, no profile GET, one GET per photo;
- a SharePoint 2013 server (no $batch) falls back to one request per person with nobody lost, and says so;
- one part failing (HTTP 500 to the end, or not an HTTP answer) is that person's error - who keeps the old
  photo even with missing_source=remove - and everybody else is written.
"""

import io
import math

import pytest
from PIL import Image

import dcread
import scratch_people
from syncrun import run
from sptestserver import SPTestServer

N = 45
NAMES = ["spb-%02d" % i for i in range(1, N + 1)]
PLACEHOLDER, NULL_PROFILE, GONE_404 = "spb-05", "spb-06", "spb-07"
FAILING, MALFORMED = "spb-09", "spb-10"


def jpeg(rgb, size=(80, 80)):
    out = io.BytesIO()
    Image.new("RGB", size, rgb).save(out, "JPEG", quality=90)
    return out.getvalue()


OLD = jpeg((200, 30, 30))


def sp_people(dc):
    people = []
    for i, sam in enumerate(NAMES, 1):
        person = dict(account="%s\\%s" % (dc["netbios_domain"], sam), upn="%s@%s" % (sam, dc["dns_domain"]),
                      email="%s@%s" % (sam, dc["dns_domain"]), display_name=sam, has_photo=i % 4 != 0,
                      photo_seed=3000 + i, photo_size=240)
        if sam == PLACEHOLDER:
            person["placeholder"] = True  # SPS-PicturePlaceholderState 1: SharePoint shows no photo
        if sam == NULL_PROFILE:
            person["profile"] = "null"
        if sam == GONE_404:
            person["profile"] = "404"
        people.append(person)
    return people


WITHOUT_PHOTO = set(n for i, n in enumerate(NAMES, 1) if i % 4 == 0) | {PLACEHOLDER, NULL_PROFILE, GONE_404}


@pytest.fixture(scope="module")
def sp(dc, tmp_path_factory):
    server = SPTestServer(str(tmp_path_factory.mktemp("sp-batch")), people=sp_people(dc), domain=dc["netbios_domain"])
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sp2013(dc, tmp_path_factory):
    """The same people on a SharePoint 2013 farm: no $batch."""
    server = SPTestServer(str(tmp_path_factory.mktemp("sp-2013")), people=sp_people(dc), domain=dc["netbios_domain"],
                          onprem_version="2013")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def people_ou(dc):
    base = scratch_people.create_ou(dc)
    scratch_people.add_people(dc, base, [dict(sam=sam, photo=OLD) for sam in NAMES])
    yield base
    scratch_people.delete_ou(dc, base)


@pytest.fixture
def fresh(sp, sp2013, people_ou):
    """Everybody has the photo OLD again; no faults, empty logs, no warnings of earlier in-process runs."""
    for server in (sp, sp2013):
        server.reset_faults()
        server.clear_log()
    for sam in NAMES:
        dn = scratch_people.person_dn(people_ou, sam)
        if dcread.read_photo(dn) != OLD:
            dcread.write_photo_raw(dn, OLD)
    _forget_warnings()
    yield people_ou


def _forget_warnings():
    """The runs share one process: Ansible keeps module warnings in a module-level registry."""
    from ansible.module_utils.common import warnings as ansible_warnings
    registry = getattr(ansible_warnings, "_global_warnings", None)
    if registry is not None:
        registry.clear()


def photos(base):
    return dict((sam, dcread.read_photo(scratch_people.person_dn(base, sam))) for sam in NAMES)


def statuses(result):
    return dict((p["user"], p["status"]) for p in result["not_in_sync"])


def sync(dc, capsys, sp, base, tmp_path, **options):
    sharepoint = sp.ntlm_options(auth="ntlm", mysite_url=None)
    sharepoint.update(options)
    return run(dc, capsys, search_base=base, sharepoint=sharepoint, missing_source="remove",
               backup_dir=str(tmp_path / "backups"), fail_on_error=False, max_listed=1000)


def count(sp, needle, method="GET", status=None):
    """Requests whose target holds ``needle``, answered ``status`` (None: anything but NTLM's 401 legs)."""
    return len([e for e in sp.request_log if needle in e[2] and e[1] == method and (
        e[3] == status if status is not None else e[3] != 401)])


def batch_warnings(result):
    """The module's $batch warnings as text (in-process, Ansible hands warnings over as WarningSummary dicts)."""
    texts = [w.get("event", {}).get("msg", "") if isinstance(w, dict) else str(w) for w in result.get("warnings") or []]
    return [text for text in texts if "$batch" in text]


def test_batched_sync_writes_what_the_per_person_sync_writes_with_the_promised_requests(
        dc, capsys, sp, fresh, tmp_path):
    single = sync(dc, capsys, sp, fresh, tmp_path, batch_size=0)
    assert not single.get("failed"), single.get("msg")
    by_one = photos(fresh)
    assert count(sp, "GetPropertiesFor") == N and count(sp, "/_api/$batch", "POST") == 0

    for sam in NAMES:
        dcread.write_photo_raw(scratch_people.person_dn(fresh, sam), OLD)
    sp.clear_log()
    batched = sync(dc, capsys, sp, fresh, tmp_path)
    assert not batched.get("failed"), batched.get("msg")
    by_batch = photos(fresh)

    assert by_batch == by_one
    assert statuses(batched) == statuses(single)
    assert batched["counts"] == single["counts"] and batched["written"] == single["written"] == N
    assert batched["counts"]["update"] == N - len(WITHOUT_PHOTO)
    assert batched["counts"]["remove"] == len(WITHOUT_PHOTO)
    for sam in WITHOUT_PHOTO:
        assert by_batch[sam] is None, sam
    for sam in set(NAMES) - WITHOUT_PHOTO:
        assert by_batch[sam] not in (None, OLD), sam
    assert batch_warnings(batched) == []

    # What batching promises: ceil(N / 20) batch requests, one form digest, no profile lookup of its own,
    # and one download per photo.
    assert count(sp, "/_api/$batch", "POST") == math.ceil(N / 20.0)
    assert sorted(b["parts"] for b in sp.batch_log) == sorted([20, 20, N - 40])
    assert count(sp, "/_api/contextinfo", "POST") == 1
    assert count(sp, "GetPropertiesFor") == 0
    assert count(sp, "Thumb.jpg") == N - len(WITHOUT_PHOTO)
    assert count(sp, "", "POST") + count(sp, "") == math.ceil(N / 20.0) + 1 + N - len(WITHOUT_PHOTO)


def test_sharepoint_2013_falls_back_to_one_request_per_person_with_nobody_lost(dc, capsys, sp2013, fresh, tmp_path):
    result = sync(dc, capsys, sp2013, fresh, tmp_path)
    assert not result.get("failed"), result.get("msg")
    assert result["written"] == N and result["counts"]["error"] == 0
    assert result["counts"]["update"] == N - len(WITHOUT_PHOTO) and result["counts"]["remove"] == len(WITHOUT_PHOTO)
    stored = photos(fresh)
    for sam in set(NAMES) - WITHOUT_PHOTO:
        assert stored[sam] not in (None, OLD), sam
    # Said once, and it tells a SharePoint 2013 administrator what to set.
    warnings = batch_warnings(result)
    assert len(warnings) == 1 and "HTTP 404" in warnings[0] and "batch_size" in warnings[0], result.get("warnings")
    # One refused batch, then every profile alone.
    assert count(sp2013, "/_api/$batch", "POST", 404) == 1 and count(sp2013, "/_api/$batch", "POST") == 1
    assert count(sp2013, "GetPropertiesFor") == N

    # batch_size 0: not even the one attempt, and no warning.
    for sam in NAMES:
        dcread.write_photo_raw(scratch_people.person_dn(fresh, sam), OLD)
    sp2013.clear_log()
    _forget_warnings()
    quiet = sync(dc, capsys, sp2013, fresh, tmp_path, batch_size=0)
    assert quiet["written"] == N and batch_warnings(quiet) == []
    assert [e for e in sp2013.request_log if "$batch" in e[2]] == []
    assert photos(fresh) == stored


def test_one_failing_part_is_that_persons_error_and_the_others_are_written(dc, capsys, sp, fresh, tmp_path):
    retries = 2
    sp.inject(r"GetPropertiesFor.*%s'" % FAILING, status=500, count=None)
    sp.inject(r"GetPropertiesFor.*%s'" % MALFORMED, malformed=True, count=None)
    result = sync(dc, capsys, sp, fresh, tmp_path, retries=retries)
    assert not result.get("failed"), result.get("msg")
    people = dict((p["user"], p) for p in result["not_in_sync"])
    stored = photos(fresh)

    # The 500 to the end: tried once in the batch and `retries` times alone, then an error - never "no photo",
    # so with missing_source=remove the old photo stays.
    assert people[FAILING]["status"] == "error" and "HTTP 500" in people[FAILING]["error"], people[FAILING]
    assert stored[FAILING] == OLD
    assert count(sp, "GetPropertiesFor(accountName=@v)?@v='i%3A0%23.w%7C", status=500) == retries
    # The part that is not an HTTP answer: an error naming the person, nothing retried, photo kept.
    assert people[MALFORMED]["status"] == "error" and "$batch answer" in people[MALFORMED]["error"]
    assert count(sp, "%%5C%s'" % MALFORMED) == 0
    assert MALFORMED in people[MALFORMED]["error"] or people[MALFORMED]["user"] == MALFORMED
    assert stored[MALFORMED] == OLD
    # Everybody else: written (or removed: no photo in SharePoint).
    assert result["counts"]["error"] == 2 and result["written"] == N - 2
    for sam in set(NAMES) - WITHOUT_PHOTO - {FAILING, MALFORMED}:
        assert stored[sam] not in (None, OLD), sam
    for sam in WITHOUT_PHOTO:
        assert stored[sam] is None, sam
    assert count(sp, "/_api/$batch", "POST") == math.ceil(N / 20.0)
