"""Planning, backups and the local sources: pure code and local files / a loopback HTTP server."""

import base64
import functools
import hashlib
import http.server
import io
import json
import os
import threading

import pytest
from PIL import Image

from ansible_collections.photosync.ad.plugins.module_utils import _backup, _errors, _image, _reconcile, _source_url, _sources
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser, SourcePhoto

USER = DirectoryUser("CN=Alice,OU=Staff,DC=example,DC=test", "alice", "alice@example.test", None,
                     "0d6c3a8e-6b9d-4a4e-9d8a-2f8f1a0b6c11", None, "Alice")


def jpeg(colour=(200, 30, 30), size=(320, 240)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


class _Given(object):
    """A source that hands over fixed bytes (normalize=False: compared exactly as given)."""

    normalize = False

    def describe(self):
        return "test bytes"


def _given(data):
    return None if data is None else SourcePhoto(data, None, "given", None)


@pytest.mark.parametrize("current,desired,status", [
    ([], b"new", "add"),
    ([b"old"], b"new", "update"),
    ([b"same"], b"same", "in_sync"),
    ([b"same", b"other"], b"same", "update"),  # jpegPhoto with two values becomes one
])
def test_plan_statuses(current, desired, status):
    outcome = _reconcile.plan_person(USER, current, _given(desired), _image.ImageProfile(), _reconcile.Policy(),
                                     source=_Given())
    assert outcome.status == status and not outcome.written


@pytest.mark.parametrize("current,missing,status", [
    ([b"old"], "remove", "remove"),
    ([], "remove", "in_sync"),
    ([b"old"], "keep", "no_source"),
    ([], "keep", "no_source"),
])
def test_no_photo_in_the_source_follows_missing_source(current, missing, status):
    policy = _reconcile.Policy(missing_source=missing)
    assert _reconcile.plan_person(USER, current, None, _image.ImageProfile(), policy).status == status


def test_state_absent_removes_whatever_the_source():
    policy = _reconcile.Policy(state="absent")
    assert _reconcile.plan_person(USER, [b"old"], None, _image.ImageProfile(), policy).status == "remove"
    assert _reconcile.plan_person(USER, [], None, _image.ImageProfile(), policy).status == "in_sync"


def test_a_failing_source_is_an_error_never_no_photo():
    outage = _errors.RemoteServiceError("HTTP 503", status=503)
    outcome = _reconcile.plan_person(USER, [b"old"], outage, _image.ImageProfile(),
                                     _reconcile.Policy(missing_source="remove"))
    assert outcome.status == "error" and not outcome.run_wide and outcome.error == "HTTP 503"
    denied = _errors.RemoteServiceError("HTTP 401", status=401)
    assert _reconcile.plan_person(USER, [], denied, _image.ImageProfile(), _reconcile.Policy()).run_wide


def test_outcome_record_never_contains_photo_bytes_and_says_why():
    photo = _image.normalize(jpeg(), _image.ImageProfile())
    outcome = _reconcile.plan_person(USER, [jpeg((0, 0, 255))], SourcePhoto(jpeg(), "v1", "a.jpg", None),
                                     _image.ImageProfile(), _reconcile.Policy())
    record = outcome.as_dict()
    text = json.dumps(record)
    assert base64.b64encode(photo.data[:30]).decode()[:20] not in text
    assert record["status"] == "update" and record["after"]["sha256"] == photo.sha256
    assert record["after"]["width"] == 96 and record["source_version"] == "v1"
    assert "320x240 is larger than 96x96" in record["reasons"]
    assert set(record) == {"user", "dn", "display_name", "status", "reasons", "before", "after", "source",
                           "source_version", "backup_file", "written", "error", "hint"}


def test_bad_image_is_invalid_source_naming_user_and_source(tmp_path):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"%PDF-1.7 not a photo")
    source = _sources.FileSource(str(bad))
    outcome = _reconcile.plan_person(USER, [], _reconcile.fetch(source, USER), _image.ImageProfile(),
                                     _reconcile.Policy(), source=source)
    assert outcome.status == "invalid_source"
    assert outcome.message().startswith("alice: the photo from file %s cannot be used" % bad)


def test_backup_round_trip_and_sidecar(tmp_path):
    old = b"\xff\xd8old-bytes"
    path = _backup.write_backup(str(tmp_path / "b"), USER, "thumbnailPhoto", old, "ab" * 32, "updated")
    assert os.path.basename(path).startswith("alice.thumbnailPhoto.") and path.endswith(".jpg")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(str(tmp_path / "b")).st_mode & 0o777) == "0o700"
    sidecar = json.load(open(path + ".json"))
    assert sidecar["sha256"] == hashlib.sha256(old).hexdigest() and sidecar["replaced_by_sha256"] == "ab" * 32
    for given in (path, path + ".json"):
        backup = _backup.read_backup(given)
        assert backup.data == old and backup.sidecar["dn"] == USER.dn


def test_backup_into_unwritable_place_is_a_backup_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(_errors.BackupError, match="Nothing was changed"):
        _backup.write_backup(str(blocker / "sub"), USER, "thumbnailPhoto", b"x", None, "removed")


def test_backups_of_two_people_written_at_once_into_a_new_folder_both_succeed(tmp_path, monkeypatch):
    """Regression (failed before the fix): a bulk run writes over several connections, so the first two
    backups of a run race to create backup_dir.  The folder was created with "isdir, else makedirs", and
    the thread that lost the race got FileExistsError: a BackupError, so a person with nothing wrong was
    not written ("cannot write the backup into ...: File exists").  That was the flake of
    tests/integration/test_security_remote.py in full CI runs.  Here both threads are held between the
    check and the create, the interleaving that now and then lost a person in a real run."""
    folder = str(tmp_path / "new" / "backups")
    real_isdir = os.path.isdir
    seen = dict(checks=0, done=0)
    turn = threading.Condition()

    def isdir(path):
        # A thread that asks whether the folder exists gets the true answer, but only once the other thread
        # has asked too (or has finished: code that does not look first has nothing to line up).
        answer = real_isdir(path)
        if path == folder:
            with turn:
                seen["checks"] += 1
                turn.notify_all()
                turn.wait_for(lambda: seen["checks"] >= 2 or seen["done"] >= 1, timeout=10)
        return answer

    monkeypatch.setattr(os.path, "isdir", isdir)
    people = [USER._replace(dn="CN=p%d,OU=Staff,DC=example,DC=test" % n, sam_account_name="p%d" % n)
              for n in range(2)]
    written, failed = [], []

    def backup(person):
        try:
            written.append(_backup.write_backup(folder, person, "thumbnailPhoto", jpeg(), None, "updated"))
        except _errors.BackupError as exc:
            failed.append(exc.message)
        finally:
            with turn:
                seen["done"] += 1
                turn.notify_all()

    threads = [threading.Thread(target=backup, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == [] and len(written) == 2
    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
    for path in written:
        assert _backup.read_backup(path).data == jpeg()


def test_backup_dir_that_is_a_file_is_a_backup_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(_errors.BackupError, match="Nothing was changed"):
        _backup.write_backup(str(blocker), USER, "thumbnailPhoto", b"x", None, "removed")


def test_backup_source_is_not_normalized():
    assert _sources.BackupSource("x").normalize is False
    assert _sources.FileSource("x").normalize is True


def test_content_source_decodes_base64_and_refuses_garbage():
    data = jpeg()
    assert _sources.ContentSource(base64.b64encode(data).decode()).fetch(USER).data == data
    with pytest.raises(_errors.SourceError, match="not valid base64"):
        _sources.ContentSource("this is *not* base64").fetch(USER)


def test_missing_file_says_where_it_was_looked_for(tmp_path):
    with pytest.raises(_errors.SourceError) as info:
        _sources.FileSource(str(tmp_path / "nope.jpg")).fetch(USER)
    assert "alice" in str(info.value) and "delegate_to: localhost" in str(info.value)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def web(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_url_source_downloads_checks_type_and_size(web):
    root, base = web
    (root / "a.jpg").write_bytes(jpeg())
    (root / "page.html").write_bytes(b"<html>login</html>")
    photo = _source_url.UrlSource(base + "/a.jpg").fetch(USER)
    assert photo.data == (root / "a.jpg").read_bytes() and photo.content_type == "image/jpeg"
    assert photo.version  # Last-Modified from the server
    with pytest.raises(_errors.InvalidImage, match="text/html, not an image"):
        _source_url.UrlSource(base + "/page.html").fetch(USER)
    with pytest.raises(_errors.SourceError, match="larger than url_max_bytes"):
        _source_url.UrlSource(base + "/a.jpg", max_bytes=100).fetch(USER)
    with pytest.raises(_errors.RemoteServiceError, match="HTTP 404") as info:
        _source_url.UrlSource(base + "/missing.jpg").fetch(USER)
    assert info.value.status == 404


def test_url_must_be_http():
    with pytest.raises(_errors.ConfigurationError):
        _source_url.UrlSource("file:///etc/passwd")
