"""The one-user path (resolve -> read -> normalize -> plan -> backup -> compare-and-swap) driven
step by step through module_utils, so a concurrent writer can be placed exactly between read and write.
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


def prepare(directory, user_dn, tmp_path, colour):
    photo_file = tmp_path / ("%s.jpg" % colour)
    photo_file.write_bytes(jpeg_bytes(colour))
    user = directory.resolve(user_dn)
    source = _sources.FileSource(str(photo_file))
    current = directory.read_values(user.dn, "thumbnailPhoto")
    desired, version = _reconcile.desired_photo(user, "present", source, _image.ImageProfile())
    return user, _reconcile.plan(user, "thumbnailPhoto", current, desired, source, version)


def test_concurrent_writer_is_detected_not_clobbered(dc, directory, scratch_user, tmp_path):
    created = scratch_user(photo=jpeg_bytes("blue", (96, 96)))
    user, change = prepare(directory, created["dn"], tmp_path, "red")
    assert change.action == "updated"

    dcread.write_photo_raw(user.dn, b"the other writer's photo")  # lands between our read and our write
    with pytest.raises(_errors.Conflict) as info:
        _reconcile.apply(directory, change)
    assert user.sam_account_name in str(info.value) and "force" in str(info.value)
    assert dcread.read_photo(user.dn) == b"the other writer's photo"

    _reconcile.apply(directory, change, force=True)
    assert dcread.read_photo(user.dn) == change.desired


def test_conflict_on_add_when_someone_added_first(dc, directory, scratch_user, tmp_path):
    created = scratch_user()
    user, change = prepare(directory, created["dn"], tmp_path, "green")
    assert change.action == "added"
    dcread.write_photo_raw(user.dn, b"first!")
    with pytest.raises(_errors.Conflict):
        _reconcile.apply(directory, change)
    assert dcread.read_photo(user.dn) == b"first!"


def test_backup_is_taken_before_the_write_and_matches_the_old_value(dc, directory, scratch_user, tmp_path):
    old = jpeg_bytes("yellow", (80, 80))
    created = scratch_user(photo=old)
    user, change = prepare(directory, created["dn"], tmp_path, "purple")
    backup_file = _reconcile.apply(directory, change, backup_dir=str(tmp_path / "backups"))
    assert open(backup_file, "rb").read() == old
    sidecar = json.load(open(backup_file + ".json"))
    assert sidecar["dn"] == user.dn and sidecar["sha256"] == hashlib.sha256(old).hexdigest()
    assert sidecar["replaced_by_sha256"] == hashlib.sha256(change.desired).hexdigest()
    assert dcread.read_photo(user.dn) == change.desired
    # Restoring goes through the same path, byte for byte and without normalization.
    restore = _sources.BackupSource(backup_file)
    desired, dummy = _reconcile.desired_photo(user, "present", restore, _image.ImageProfile())
    _reconcile.apply(directory, _reconcile.plan(user, "thumbnailPhoto", [change.desired], desired, restore))
    assert dcread.read_photo(user.dn) == old


def test_tampered_backup_is_refused(dc, directory, scratch_user, tmp_path):
    created = scratch_user(photo=jpeg_bytes("orange", (64, 64)))
    user, change = prepare(directory, created["dn"], tmp_path, "white")
    backup_file = _reconcile.apply(directory, change, backup_dir=str(tmp_path / "b"))
    with open(backup_file, "ab") as handle:
        handle.write(b"x")
    with pytest.raises(_errors.BackupError, match="does not match its sidecar"):
        _sources.BackupSource(backup_file).fetch(user)


def test_check_mode_writes_nothing_not_even_a_backup(dc, directory, scratch_user, tmp_path):
    created = scratch_user(photo=jpeg_bytes("black", (64, 64)))
    before = dcread.read_photo(created["dn"])
    user, change = prepare(directory, created["dn"], tmp_path, "cyan")
    assert _reconcile.apply(directory, change, check_mode=True, backup_dir=str(tmp_path / "cb")) is None
    assert dcread.read_photo(user.dn) == before
    assert not os.path.exists(str(tmp_path / "cb"))


def test_bad_image_is_an_error_naming_user_and_source(dc, directory, scratch_user, tmp_path):
    created = scratch_user()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"<html><body>404</body></html>")
    user = directory.resolve(created["dn"])
    with pytest.raises(_errors.InvalidImage) as info:
        _reconcile.desired_photo(user, "present", _sources.FileSource(str(bad)), _image.ImageProfile())
    message = str(info.value)
    assert message.startswith(user.sam_account_name + ":") and str(bad) in message and "HTML" in message
    assert dcread.read_photo(user.dn) is None
