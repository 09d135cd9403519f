"""thumbnail_photo_sync against the real Samba DC: every status, check mode against the real run, the
circuit breaker, missing_source=remove with backups, outages that remove nothing, unmatched and ambiguous
source keys, per-person failures, more people than one LDAP page.

Each test works in its own OU of throw-away people (tests/support/scratch_people.py, plain ldap3) and
verifies the directory with dcread (ldapsearch) or plain ldap3, never with the collection.  The module runs
in-process through AnsibleModule (ansible-playbook runs it in tests/integration/targets/thumbnail_photo_sync).
"""

import hashlib
import http.server
import io
import json
import os
import ssl
import threading
import time

import ldap3
import pytest
from PIL import Image

import dcread
import scratch_people
from syncrun import run
from ansible.module_utils.testing import patch_module_args

from ansible_collections.photosync.ad.plugins.module_utils import _image
from ansible_collections.photosync.ad.plugins.modules import thumbnail_photo_sync

PROFILE = _image.ImageProfile()


def jpeg(colour, size=(300, 400)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def normalized(data):
    return _image.normalize(data, PROFILE).data


def sha(data):
    return hashlib.sha256(data).hexdigest() if data is not None else None


def statuses(result):
    return dict((p["user"], p["status"]) for p in result["not_in_sync"])


def photo(dn):
    return dcread.read_photo(dn)


# --- a web server whose answers are set per person ----------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        name = self.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        self.server.hits.append(name)
        answer = self.server.answers.get(name, ("status", 404))
        kind = answer[0]
        if kind == "sleep":
            time.sleep(answer[1])
            answer = ("photo", answer[2])
            kind = "photo"
        if kind == "before":  # run something (another writer) while the sync is between read and write
            answer[1]()
            answer = ("photo", answer[2])
            kind = "photo"
        if kind == "photo":
            body, ctype, code = answer[1], "image/jpeg", 200
        elif kind == "html":
            body, ctype, code = b"<html><body>please log in</body></html>", "text/html", 200
        else:
            body, ctype, code = b"no", "text/plain", answer[1]
        try:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.answers = {}
    server.hits = []
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.template = "http://127.0.0.1:%d/photos/{sAMAccountName}.jpg" % server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()


# --- tests ------------------------------------------------------------------------------------------

def test_every_status_then_a_second_run_changes_nothing(dc, ou, web, capsys):
    """One run over people set up for each status; check mode first reports exactly what the real run does."""
    old = jpeg("blue", (300, 200))
    in_sync = normalized(jpeg("green"))
    base = ou([dict(sam="s-add"), dict(sam="s-update", photo=old), dict(sam="s-insync", photo=in_sync),
               dict(sam="s-nosource", photo=old), dict(sam="s-invalid", photo=old),
               dict(sam="s-error", photo=old), dict(sam="s-conflict", photo=old),
               dict(sam="s-disabled", photo=old, disabled=True)])
    dn = dict((sam, scratch_people.person_dn(base, sam)) for sam in
              ("s-add", "s-update", "s-insync", "s-nosource", "s-invalid", "s-error", "s-conflict", "s-disabled"))
    web.answers.update({
        "s-add": ("photo", jpeg("red")), "s-update": ("photo", jpeg("yellow")), "s-insync": ("photo", jpeg("green")),
        "s-invalid": ("html",), "s-error": ("status", 500), "s-disabled": ("photo", jpeg("red")),
    })
    web.answers["s-conflict"] = ("photo", jpeg("purple"))
    args = dict(search_base=base, photo_url_template=web.template, fail_on_error=False)

    check = run(dc, capsys, check_mode=True, max_listed=50, **args)
    assert check["changed"] and check["written"] == 0
    assert check["counts"] == dict(in_sync=1, add=1, update=2, remove=0, no_source=1, conflict=0,
                                   invalid_source=1, error=1)
    assert check["total"] == 7  # the disabled account is out of scope by default
    planned = statuses(check)
    assert planned == {"s-add": "add", "s-update": "update", "s-conflict": "update", "s-nosource": "no_source",
                       "s-invalid": "invalid_source", "s-error": "error"}
    for sam in dn:
        expected = {"s-add": None, "s-insync": in_sync}.get(sam, old)
        assert photo(dn[sam]) == expected, "check mode wrote %s" % sam

    # Another writer changes s-conflict after the sync read it and before it writes.
    web.answers["s-conflict"] = ("before", lambda: dcread.write_photo_raw(dn["s-conflict"], b"theirs"),
                                 jpeg("purple"))
    real = run(dc, capsys, max_listed=3, **args)
    assert real["changed"] and real["written"] == 2
    assert real["counts"] == dict(in_sync=1, add=1, update=1, remove=0, no_source=1, conflict=1,
                                  invalid_source=1, error=1)
    assert len(real["not_in_sync"]) == 3 and real["not_in_sync_truncated"]
    assert photo(dn["s-add"]) == normalized(jpeg("red"))
    assert photo(dn["s-update"]) == normalized(jpeg("yellow"))
    assert photo(dn["s-insync"]) == in_sync
    assert photo(dn["s-nosource"]) == old and photo(dn["s-invalid"]) == old and photo(dn["s-error"]) == old
    assert photo(dn["s-conflict"]) == b"theirs"  # detected, not clobbered
    assert photo(dn["s-disabled"]) == old

    web.answers["s-conflict"] = ("photo", jpeg("purple"))
    full = run(dc, capsys, max_listed=50, **args)
    by_user = dict((p["user"], p) for p in full["not_in_sync"])
    assert by_user["s-invalid"]["status"] == "invalid_source" and "text/html" in by_user["s-invalid"]["error"]
    assert "500" in by_user["s-error"]["error"]
    assert by_user["s-conflict"]["status"] == "update"  # the next run reconciles against the new value
    assert full["written"] == 1 and photo(dn["s-conflict"]) == normalized(jpeg("purple"))

    again = run(dc, capsys, max_listed=3, **args)
    assert not again["changed"] and again["written"] == 0
    assert again["counts"]["in_sync"] == 4 and again["counts"]["add"] == again["counts"]["update"] == 0


def test_check_mode_reports_exactly_what_the_real_run_does(dc, ou, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    people = [dict(sam="cm-%02d" % i, photo=jpeg((i * 20, 0, 0), (120, 120)) if i % 3 else None) for i in range(12)]
    for i, person in enumerate(people):
        if i % 4:
            (folder / ("%s.jpg" % person["sam"])).write_bytes(jpeg((0, i * 20, 0)))
    base = ou(people)
    args = dict(search_base=base, photo_dir=str(folder), missing_source="remove", backup_dir=str(tmp_path / "bk"))
    before = dict((p["sam"], photo(scratch_people.person_dn(base, p["sam"]))) for p in people)

    check = run(dc, capsys, check_mode=True, **args)
    assert all(photo(scratch_people.person_dn(base, sam)) == data for sam, data in before.items())
    assert not os.path.exists(str(tmp_path / "bk"))
    real = run(dc, capsys, **args)
    assert check["counts"] == real["counts"]
    assert statuses(check) == statuses(real)
    assert [p["after"] for p in check["not_in_sync"]] == [p["after"] for p in real["not_in_sync"]]
    assert real["written"] == real["counts"]["add"] + real["counts"]["update"] + real["counts"]["remove"] > 0
    second = run(dc, capsys, check_mode=True, **args)
    assert not second["changed"] and second["counts"]["in_sync"] == len(people)


def test_missing_source_remove_takes_backups_and_an_outage_removes_nothing(dc, ou, web, tmp_path, capsys):
    old = jpeg("orange", (96, 96))
    base = ou([dict(sam="m-gone", photo=old), dict(sam="m-5xx", photo=old), dict(sam="m-slow", photo=old),
               dict(sam="m-503", photo=old)])
    dn = dict((sam, scratch_people.person_dn(base, sam)) for sam in ("m-gone", "m-5xx", "m-slow", "m-503"))
    web.answers.update({"m-gone": ("status", 404), "m-5xx": ("status", 502), "m-503": ("status", 503),
                        "m-slow": ("sleep", 4, jpeg("red"))})
    result = run(dc, capsys, search_base=base, photo_url_template=web.template, missing_source="remove",
                 backup_dir=str(tmp_path / "backups"), url_timeout=1)
    assert result["failed"] and "3 of 4 people could not be reconciled" in result["msg"]
    assert result["counts"]["remove"] == 1 and result["counts"]["error"] == 3 and result["written"] == 1
    assert photo(dn["m-gone"]) is None
    for sam in ("m-5xx", "m-slow", "m-503"):
        assert photo(dn[sam]) == old, "%s lost its photo during an outage" % sam
    removed = [p for p in result["not_in_sync"] if p["status"] == "remove"][0]
    assert removed["reasons"] == ["the source has no photo (missing_source=remove)"]
    with open(removed["backup_file"], "rb") as handle:
        assert handle.read() == old
    sidecar = json.load(open(removed["backup_file"] + ".json"))
    assert sidecar["dn"] == dn["m-gone"] and sidecar["action"] == "removed"
    timed_out = [p for p in result["not_in_sync"] if p["user"] == "m-slow"][0]
    assert "did not finish within 1 seconds" in timed_out["error"] or "timed out" in timed_out["error"]


def test_circuit_breaker_writes_nothing_and_says_how_many(dc, ou, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    people = [dict(sam="cb-%d" % i) for i in range(5)]
    for person in people:
        (folder / ("%s.png" % person["sam"])).write_bytes(jpeg("teal"))
    base = ou(people)
    for limit in ("4", "50%"):
        result = run(dc, capsys, search_base=base, photo_dir=str(folder), max_changes=limit)
        assert result["failed"] and "nothing was written" in result["msg"]
        assert result["circuit_breaker"] == dict(limit=4 if limit == "4" else 2, would_change=5, tripped=True)
        assert result["written"] == 0 and result["counts"]["add"] == 5
        assert all(photo(scratch_people.person_dn(base, p["sam"])) is None for p in people)
    ok = run(dc, capsys, search_base=base, photo_dir=str(folder), max_changes="100%")
    assert ok["changed"] and ok["written"] == 5 and not ok["circuit_breaker"]["tripped"]
    assert all(photo(scratch_people.person_dn(base, p["sam"])) == normalized(jpeg("teal")) for p in people)


def test_unmatched_and_ambiguous_source_keys_are_reported_and_never_written(dc, ou, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    base = ou([dict(sam="k-one", mail="k-one@example.test"), dict(sam="k-two", mail="shared-k@example.test"),
               dict(sam="k-three", mail="shared-k@example.test")])
    (folder / "k-one@example.test.jpg").write_bytes(jpeg("red"))
    (folder / "shared-k@example.test.jpg").write_bytes(jpeg("blue"))
    (folder / "nobody@example.test.jpg").write_bytes(jpeg("white"))
    result = run(dc, capsys, search_base=base, photo_dir=str(folder), photo_name_templates=["{mail}.*"],
                 fail_on_error=False)
    assert result["unmatched_source_keys"] == [str(folder / "nobody@example.test.jpg")]
    assert result["ambiguous_source_keys"] == [str(folder / "shared-k@example.test.jpg")]
    assert statuses(result) == {"k-one": "add", "k-two": "error", "k-three": "error"}
    assert photo(scratch_people.person_dn(base, "k-one")) == normalized(jpeg("red"))
    assert photo(scratch_people.person_dn(base, "k-two")) is None
    assert photo(scratch_people.person_dn(base, "k-three")) is None


def test_one_person_failing_does_not_stop_the_others(dc, ou, tmp_path, capsys):
    """The delegate may write photos below OU=Staff only: people elsewhere fail, the rest are written."""
    folder = tmp_path / "photos"
    folder.mkdir()
    parent = scratch_people.create_ou(dc, "sync-parent-%d" % os.getpid())
    try:
        writable = ou([dict(sam="d-w%d" % i) for i in range(3)], parent=dc["ous"]["staff"])
        denied = ou([dict(sam="d-x%d" % i) for i in range(2)], parent=parent)
        for sam in ("d-w0", "d-w1", "d-w2", "d-x0", "d-x1"):
            (folder / ("%s.jpg" % sam)).write_bytes(jpeg("navy"))
        identities = ["d-x0", "d-w0", "nobody-here", "d-w1", "d-x1", "d-w2"]
        result = run(dc, capsys, bind=dc["delegate"], identities=identities, photo_dir=str(folder))
        assert result["failed"] and "3 of 6 people could not be reconciled" in result["msg"]
        assert result["counts"]["add"] == 3 and result["counts"]["error"] == 3 and result["written"] == 3
        errors = dict((p["user"], p["error"]) for p in result["not_in_sync"] if p["status"] == "error")
        assert set(errors) == {"d-x0", "d-x1", "nobody-here"}
        assert "no write property access" in errors["d-x0"] or "insufficient" in errors["d-x0"].lower()
        for i in range(3):
            assert photo(scratch_people.person_dn(writable, "d-w%d" % i)) == normalized(jpeg("navy"))
        for i in range(2):
            assert photo(scratch_people.person_dn(denied, "d-x%d" % i)) is None
    finally:
        scratch_people.delete_ou(dc, parent)


def test_run_wide_error_stops_before_any_write(dc, ou, web, capsys):
    base = ou([dict(sam="r-%d" % i) for i in range(4)])
    for i in range(4):
        web.answers["r-%d" % i] = ("photo", jpeg("red")) if i != 2 else ("status", 401)
    result = run(dc, capsys, search_base=base, photo_url_template=web.template)
    assert result["failed"] and "401" in result["msg"]
    assert result["written"] == 0
    assert all(photo(scratch_people.person_dn(base, "r-%d" % i)) is None for i in range(4))


def test_bad_source_options_fail_before_the_directory_is_contacted(capsys):
    """Regression (issue 8, item 9): a bad source option used to be found only after the LDAP bind.
    The server here is an address where nothing listens, so reaching it would give another error."""
    for args, message in (
            (dict(photo_url_template="ftp://x/{sAMAccountName}"), "must start with http"),
            (dict(photo_url_template="https://x/photo.jpg"), "has no {field}"),
            (dict(photo_dir="/", photo_name_templates=["photos/{sAMAccountName}.jpg"]), "only one file name"),
            (dict(photo_dir="/nonexistent-folder"), "is not a folder"),
            (dict(graph=dict(auth="certificate", tenant_id="t", client_id="c", certificate_path="/nonexistent.pem")),
             "cannot read certificate_path"),
            (dict(photo_dir="/", max_changes="many"), "max_changes must be")):
        params = dict(server=["127.0.0.1:9"], username="svc@example.test", password="S3cret-value!", **args)
        with patch_module_args(params):
            with pytest.raises(SystemExit):
                thumbnail_photo_sync.main()
        result = json.loads(capsys.readouterr().out)
        assert result["failed"] and message in result["msg"], result["msg"]
        assert "connection refused" not in result["msg"]


def test_progress_file_and_normalization_cache(dc, ou, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    people = [dict(sam="pc-%d" % i) for i in range(6)]
    for i, person in enumerate(people):
        (folder / ("%s.jpg" % person["sam"])).write_bytes(jpeg((i * 40, 90, 90)))
    base = ou(people)
    cache = tmp_path / "cache"
    args = dict(search_base=base, photo_dir=str(folder), cache_dir=str(cache), progress_file=str(tmp_path / "p.json"))
    first = run(dc, capsys, **args)
    assert first["cache"] == dict(hits=0, misses=6) and first["written"] == 6
    progress = json.load(open(str(tmp_path / "p.json")))
    assert progress["phase"] == "done" and progress["processed"] == progress["total"] == 6
    second = run(dc, capsys, **args)
    assert second["cache"] == dict(hits=6, misses=0) and not second["changed"]
    # A damaged cache is ignored, never trusted into a wrong write.
    entries = [os.path.join(d, f) for d, dummy, files in os.walk(str(cache)) for f in files]
    assert len(entries) == 6
    for entry in entries:
        with open(entry, "r+b") as handle:
            handle.seek(-10, os.SEEK_END)
            handle.write(b"0123456789")
    third = run(dc, capsys, **args)
    assert third["cache"] == dict(hits=0, misses=6) and not third["changed"]
    assert third["counts"]["in_sync"] == 6


def test_more_people_than_one_ldap_page(dc, ou, tmp_path, capsys):
    """1,100 people (LDAP pages hold 500): everybody is planned and written, checked with plain ldap3."""
    count = 1100
    folder = tmp_path / "photos"
    folder.mkdir()
    source = jpeg("maroon", (120, 90))
    people = []
    for i in range(count):
        sam = "big%04d" % i
        people.append(dict(sam=sam, photo=normalized(source) if i % 2 else None, mail=None))
        if i % 10:
            (folder / ("%s.jpg" % sam)).write_bytes(source)
    base = ou(people, name="sync-big-%d" % os.getpid())
    result = run(dc, capsys, search_base=base, photo_dir=str(folder), max_listed=5)
    with_file = sum(1 for i in range(count) if i % 10)
    assert result["total"] == count
    assert result["counts"]["no_source"] == count - with_file
    assert result["counts"]["add"] == sum(1 for i in range(count) if i % 10 and not i % 2)
    assert result["counts"]["in_sync"] == sum(1 for i in range(count) if i % 10 and i % 2)
    assert len(result["not_in_sync"]) == 5 and result["not_in_sync_truncated"]

    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=dc["ca_cert"])
    conn = ldap3.Connection(ldap3.Server(dc["server"], port=dc["ldaps_port"], use_ssl=True, tls=tls),
                            user=dc["admin"]["username"], password=dc["admin"]["password"], auto_bind=True)
    found = {}
    for entry in conn.extend.standard.paged_search(base, "(objectClass=user)", attributes=["sAMAccountName",
                                                   "thumbnailPhoto"], paged_size=300, generator=True):
        if entry.get("type") == "searchResEntry":
            raw = entry["raw_attributes"]
            found[raw["sAMAccountName"][0].decode()] = (raw.get("thumbnailPhoto") or [None])[0]
    conn.unbind()
    assert len(found) == count
    expected = normalized(source)
    for i in range(count):
        want = expected if (i % 10 or i % 2) else None
        assert found["big%04d" % i] == want, "big%04d" % i

    again = run(dc, capsys, search_base=base, photo_dir=str(folder), max_listed=5)
    assert not again["changed"] and again["counts"]["in_sync"] == with_file


def test_reports_count_what_the_module_counts(dc, ou, web, tmp_path, capsys):
    old = jpeg("gray", (200, 200))
    base = ou([dict(sam="rp-add"), dict(sam="rp-upd", photo=old), dict(sam="rp-err", photo=old),
               dict(sam="rp-none", photo=old)])
    web.answers.update({"rp-add": ("photo", jpeg("red")), "rp-upd": ("photo", jpeg("blue")),
                        "rp-err": ("status", 500)})
    reports = tmp_path / "reports"
    result = run(dc, capsys, check_mode=True, search_base=base, photo_url_template=web.template,
                 report_dir=str(reports), report_formats=["json", "junit", "csv", "html"], fail_on_error=False)
    assert sorted(result["reports"]) == ["csv", "html", "json", "junit"]
    assert oct(os.stat(str(reports)).st_mode & 0o777) == "0o700"
    for path in result["reports"].values():
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    data = json.load(open(result["reports"]["json"]))
    assert data["schema"] == "photosync.ad/drift-report" and data["run"]["check_mode"] is True
    assert data["summary"]["counts"] == result["counts"] and data["summary"]["total"] == result["total"] == 4
    people = dict((p["user"], p) for p in data["people"])
    assert people["rp-add"]["status"] == "add" and people["rp-err"]["status"] == "error"
    # The photos of the people not in sync are in the report (before and after), the directory untouched.
    assert people["rp-upd"]["after"]["sha256"] in data["photos"] and sha(old) in data["photos"]
    assert photo(scratch_people.person_dn(base, "rp-upd")) == old
    junit = open(result["reports"]["junit"]).read()
    not_in_sync = result["total"] - result["counts"]["in_sync"]
    assert junit.count("<testcase") == 4 and junit.count("<failure") + junit.count("<error") == not_in_sync == 4


# --- SharePoint and Graph (the test server in tests/support/sptest) ---------------------------------

@pytest.fixture(scope="module")
def sp_people():
    """People the SharePoint/Graph test server knows; the tests create the same accounts in the DC."""
    return [
        {"account": "EXAMPLE\\sp-photo1", "upn": "sp-photo1@example.test", "photo_seed": 11},
        {"account": "EXAMPLE\\sp-photo2", "upn": "sp-photo2@example.test", "photo_seed": 12},
        {"account": "EXAMPLE\\sp-nophoto", "upn": "sp-nophoto@example.test", "has_photo": False},
        {"account": "EXAMPLE\\sp-outage", "upn": "sp-outage@example.test", "photo_seed": 13},
        {"account": "EXAMPLE\\sp-slow", "upn": "sp-slow@example.test", "photo_seed": 14},
    ]


@pytest.fixture(scope="module")
def sp(tmp_path_factory, sp_people):
    from sptestserver import SPTestServer

    server = SPTestServer(str(tmp_path_factory.mktemp("sp")), people=sp_people)
    server.start()
    yield server
    server.stop()


def _sp_ou(ou, sp_people, old):
    return ou([dict(sam=p["account"].split("\\")[1], photo=old) for p in sp_people])


def test_sharepoint_outage_and_timeouts_remove_nothing(dc, ou, sp, sp_people, tmp_path, capsys):
    """missing_source=remove over SharePoint (NTLM): a person SharePoint has no photo for loses theirs (with a
    backup); a profile lookup answering 503 after every retry, and one slower than the timeout, are errors
    and keep their photo; the others are written."""
    sp.reset_faults()
    old = jpeg("olive", (96, 96))
    base = _sp_ou(ou, sp_people, old)
    sp.inject(r"sp-outage", status=503, count=1000)
    sp.inject(r"GetPropertiesFor.*sp-slow", latency=5, count=1000)
    options = sp.ntlm_options(mysite_url=None, retries=1, timeout=2)
    result = run(dc, capsys, search_base=base, sharepoint=options, missing_source="remove",
                 backup_dir=str(tmp_path / "backups"), fail_on_error=False)
    sp.reset_faults()
    assert not result.get("failed"), result.get("msg")
    assert statuses(result) == {"sp-photo1": "update", "sp-photo2": "update", "sp-nophoto": "remove",
                                "sp-outage": "error", "sp-slow": "error"}
    assert result["written"] == 3 and result["retries"] >= 1
    dn = dict((p["account"].split("\\")[1], scratch_people.person_dn(base, p["account"].split("\\")[1]))
              for p in sp_people)
    assert photo(dn["sp-nophoto"]) is None
    assert photo(dn["sp-outage"]) == old and photo(dn["sp-slow"]) == old
    large = sp.person("EXAMPLE\\sp-photo1").photos.sp("L")
    assert photo(dn["sp-photo1"]) == normalized(large)
    removed = [p for p in result["not_in_sync"] if p["status"] == "remove"][0]
    assert open(removed["backup_file"], "rb").read() == old
    outage = [p for p in result["not_in_sync"] if p["user"] == "sp-outage"][0]
    assert "503" in outage["error"]

    # The outage is over: the next run brings the two who kept their old photo up to date, then all is quiet.
    again = run(dc, capsys, search_base=base, sharepoint=options, missing_source="remove")
    assert statuses(again) == {"sp-outage": "update", "sp-slow": "update"} and again["written"] == 2
    assert photo(dn["sp-outage"]) == normalized(sp.person("EXAMPLE\\sp-outage").photos.sp("L"))
    quiet = run(dc, capsys, search_base=base, sharepoint=options, missing_source="remove")
    assert quiet["counts"]["in_sync"] == 5 and quiet["written"] == 0 and not quiet["changed"]


def test_graph_source_batches_and_a_refused_app_stops_before_any_write(dc, ou, sp, sp_people, capsys):
    sp.reset_faults()
    base = _sp_ou(ou, sp_people, None)
    graph = sp.certificate_options(graph_url=sp.urls()["graph_url"].rsplit("/v1.0", 1)[0])
    roles = list(sp.app_roles)
    sp.app_roles[:] = []
    try:
        refused = run(dc, capsys, search_base=base, graph=graph)
    finally:
        sp.app_roles[:] = roles
    assert refused["failed"] and "403" in refused["msg"] and refused["written"] == 0
    assert all(photo(scratch_people.person_dn(base, p["account"].split("\\")[1])) is None for p in sp_people)

    sp.clear_log()
    result = run(dc, capsys, search_base=base, graph=graph, fail_on_error=False)
    assert result["counts"]["add"] == 4 and result["counts"]["no_source"] == 1 and result["written"] == 4
    assert any("$batch" in entry[2] for entry in sp.request_log), "Graph photos were not fetched in batches"
    original = sp.person("EXAMPLE\\sp-photo2").photos.original()
    assert photo(scratch_people.person_dn(base, "sp-photo2")) == normalized(original)
