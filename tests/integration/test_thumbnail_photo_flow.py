"""The one-user path (resolve -> read -> reconcile_person: normalize, compare, backup, compare-and-swap)
through module_utils, so a concurrent writer can be placed exactly between read and write.
Verified with dcread (ldapsearch)."""

import hashlib
import io
import json
import os

import pytest
from PIL import Image

import dcread
from ansible_collections.photosync.ad.plugins.module_utils import _errors, _image, _ldap, _reconcile, _sources


def jpeg_bytes(colour, size=(300, 400)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def directory(dc):
    settings = _ldap.ConnectionSettings(server=[dc["server"]], ca_cert=dc["ca_cert"],
                                        username=dc["admin"]["username"], password=dc["admin"]["password"])
    with _ldap.Directory(settings) as opened:
        yield opened


def read(directory, user_dn, source):
    """Resolve and read what reconcile_person needs: the person, their current values, the source's answer."""
    user = directory.resolve(user_dn)
    return user, directory.read_values(user.dn, "thumbnailPhoto"), _reconcile.fetch(source, user)


def file_source(tmp_path, colour):
    photo_file = tmp_path / ("%s.jpg" % colour)
    photo_file.write_bytes(jpeg_bytes(colour))
    return _sources.FileSource(str(photo_file))


def reconcile(directory, user, current, fetched, source, **policy):
    return _reconcile.reconcile_person(directory, user, current, fetched, _image.ImageProfile(),
                                       _reconcile.Policy(**policy), source=source)


def test_concurrent_writer_is_detected_not_clobbered(dc, directory, scratch_user, tmp_path):
    created = scratch_user(photo=jpeg_bytes("blue", (96, 96)))
    source = file_source(tmp_path, "red")
    user, current, fetched = read(directory, created["dn"], source)

    dcread.write_photo_raw(user.dn, b"the other writer's photo")  # lands between our read and our write
    outcome = reconcile(directory, user, current, fetched, source)
    assert outcome.status == "conflict" and not outcome.written and not outcome.run_wide
    assert isinstance(outcome.exception, _errors.Conflict)
    assert user.sam_account_name in outcome.message() and "force" in outcome.message()
    assert dcread.read_photo(user.dn) == b"the other writer's photo"

    forced = reconcile(directory, user, current, fetched, source, force=True)
    assert forced.status == "update" and forced.written
    assert dcread.read_photo(user.dn) == forced.desired_data


def test_conflict_on_add_when_someone_added_first(dc, directory, scratch_user, tmp_path):
    created = scratch_user()
    source = file_source(tmp_path, "green")
    user, current, fetched = read(directory, created["dn"], source)
    assert current == []
    dcread.write_photo_raw(user.dn, b"first!")
    outcome = reconcile(directory, user, current, fetched, source)
    assert outcome.status == "conflict"
    assert dcread.read_photo(user.dn) == b"first!"


def test_backup_is_taken_before_the_write_and_matches_the_old_value(dc, directory, scratch_user, tmp_path):
    old = jpeg_bytes("yellow", (80, 80))
    created = scratch_user(photo=old)
    source = file_source(tmp_path, "purple")
    user, current, fetched = read(directory, created["dn"], source)
    outcome = reconcile(directory, user, current, fetched, source, backup_dir=str(tmp_path / "backups"))
    assert outcome.status == "update" and outcome.written
    backup_file = outcome.backup_file
    assert open(backup_file, "rb").read() == old
    sidecar = json.load(open(backup_file + ".json"))
    assert sidecar["dn"] == user.dn and sidecar["sha256"] == hashlib.sha256(old).hexdigest()
    assert sidecar["replaced_by_sha256"] == hashlib.sha256(outcome.desired_data).hexdigest()
    assert dcread.read_photo(user.dn) == outcome.desired_data
    # Restoring goes through the same path, byte for byte and without normalization.
    restore = _sources.BackupSource(backup_file)
    user, current, fetched = read(directory, user.dn, restore)
    restored = reconcile(directory, user, current, fetched, restore)
    assert restored.status == "update" and restored.written
    assert dcread.read_photo(user.dn) == old


def test_tampered_backup_is_refused(dc, directory, scratch_user, tmp_path):
    created = scratch_user(photo=jpeg_bytes("orange", (64, 64)))
    source = file_source(tmp_path, "white")
    user, current, fetched = read(directory, created["dn"], source)
    backup_file = reconcile(directory, user, current, fetched, source, backup_dir=str(tmp_path / "b")).backup_file
    with open(backup_file, "ab") as handle:
        handle.write(b"x")
    restore = _sources.BackupSource(backup_file)
    user, current, fetched = read(directory, user.dn, restore)
    assert isinstance(fetched, _errors.BackupError) and "does not match its sidecar" in str(fetched)
    outcome = reconcile(directory, user, current, fetched, restore)
    assert outcome.status == "error" and not outcome.written
    assert dcread.read_photo(user.dn) == current[0]


def test_check_mode_writes_nothing_not_even_a_backup(dc, directory, scratch_user, tmp_path):
    created = scratch_user(photo=jpeg_bytes("black", (64, 64)))
    before = dcread.read_photo(created["dn"])
    source = file_source(tmp_path, "cyan")
    user, current, fetched = read(directory, created["dn"], source)
    outcome = reconcile(directory, user, current, fetched, source, check_mode=True, backup_dir=str(tmp_path / "cb"))
    assert outcome.status == "update" and not outcome.written and outcome.backup_file is None
    assert dcread.read_photo(user.dn) == before
    assert not os.path.exists(str(tmp_path / "cb"))


def test_bad_image_is_invalid_source_naming_user_and_source(dc, directory, scratch_user, tmp_path):
    created = scratch_user()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"<html><body>404</body></html>")
    source = _sources.FileSource(str(bad))
    user, current, fetched = read(directory, created["dn"], source)
    outcome = reconcile(directory, user, current, fetched, source)
    assert outcome.status == "invalid_source" and isinstance(outcome.exception, _errors.InvalidImage)
    message = outcome.message()
    assert message.startswith(user.sam_account_name + ":") and str(bad) in message and "HTML" in message
    assert dcread.read_photo(user.dn) is None
