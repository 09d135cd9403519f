# -*- coding: utf-8 -*-
"""Local sources (plugins/module_utils/_source_file.py): one file, a folder of per-person files,
inline content, backups.  Real files in a temporary folder; no mocks."""

import base64
import hashlib
import io
import json
import os

import pytest
from PIL import Image

from ansible_collections.photosync.ad.plugins.module_utils import _backup, _errors, _source_file, _sources
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser

ALICE = DirectoryUser("CN=Alice,OU=Staff,DC=example,DC=test", "alice", "alice@example.test", "alice.adams@example.test",
                      "0d6c3a8e-6b9d-4a4e-9d8a-2f8f1a0b6c11", None, "Alice", {"employeeID": "E1001"})
BOB = DirectoryUser("CN=Bob,OU=Staff,DC=example,DC=test", "bob", "bob@example.test", None, None, None, "Bob")


def jpeg(colour=(200, 30, 30), size=(64, 48)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def person(sam, **extra):
    return DirectoryUser("CN=%s,DC=example,DC=test" % sam, sam, extra.pop("upn", None), extra.pop("mail", None),
                         None, None, sam, extra or None)


# ----------------------------------------------------------------------------
# one file: regular files only, size-capped (issue 8, S2)


def test_device_file_is_refused_before_reading():
    """Regression (issue 8, S2): failed before the fix, when path: /dev/zero was read without limit
    (the task ran until memory ran out)."""
    with pytest.raises(_errors.SourceError, match="character device, not a regular file"):
        _source_file.FileSource("/dev/zero").fetch(ALICE)


def test_fifo_and_folder_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(str(fifo))
    with pytest.raises(_errors.SourceError, match="FIFO"):
        _source_file.FileSource(str(fifo)).fetch(ALICE)  # O_NONBLOCK: no writer, no hang
    with pytest.raises(_errors.SourceError, match="a folder, not a regular file"):
        _source_file.FileSource(str(tmp_path)).fetch(ALICE)


def test_file_over_the_limit_is_refused(tmp_path):
    """Regression (issue 8, S2): failed before the fix (any size was read; there was no limit)."""
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff" * 1001)
    with pytest.raises(_errors.SourceError, match="1001 bytes, more than file_max_bytes") as info:
        _sources.build_source({"path": str(big), "file_max_bytes": 1000}).fetch(ALICE)
    assert "raise file_max_bytes" in str(info.value)
    assert _source_file.FileSource(str(big), max_bytes=1001).fetch(ALICE).data == b"\xff" * 1001


def test_file_version_is_size_mtime_and_hash(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(jpeg())
    got = _source_file.FileSource(str(photo)).fetch(ALICE)
    info = os.stat(str(photo))
    assert got.version == "%d-%d-%s" % (info.st_size, info.st_mtime_ns, hashlib.sha256(jpeg()).hexdigest()[:16])
    assert got.origin == str(photo) and got.data == jpeg()


def test_missing_file_shows_the_resolved_path_and_how_relative_paths_resolve(tmp_path, monkeypatch):
    """Regression (issue 8, item 15): failed before the fix, when the message showed the path as
    given and always suggested delegate_to: localhost."""
    monkeypatch.chdir(str(tmp_path))
    with pytest.raises(_errors.SourceError) as info:
        _source_file.FileSource("photos/alice.jpg").fetch(ALICE)
    text = str(info.value)
    assert "photos/alice.jpg (resolved to %s)" % (tmp_path / "photos" / "alice.jpg") in text
    assert "against the playbook's directory" in text and "remote user's home directory" in text
    assert text.startswith("alice: cannot read the photo file")
    with pytest.raises(_errors.SourceError) as info:
        _source_file.FileSource(str(tmp_path / "nope.jpg")).fetch(ALICE)
    assert "resolved to" not in str(info.value)  # an absolute path is shown once


def test_invalid_base64_hint_does_not_contradict_itself():
    """Regression (issue 8, item 15): failed before the fix, when the hint recommended b64encode of
    lookup('file') and said in the same sentence that it does not work for binary files."""
    with pytest.raises(_errors.SourceError, match="not valid base64") as info:
        _source_file.ContentSource("this is *not* base64").fetch(ALICE)
    hint = info.value.hint
    assert "does not work" not in hint
    assert "rstrip=false" in hint and "ansible.builtin.slurp" in hint
    data = jpeg()
    assert _source_file.ContentSource(base64.b64encode(data).decode()).fetch(ALICE).data == data


def test_names_stay_importable_from_sources():
    assert _sources.FileSource is _source_file.FileSource
    assert _sources.ContentSource is _source_file.ContentSource
    assert _sources.BackupSource is _source_file.BackupSource
    spec = _sources.source_spec()
    assert spec["restore_foreign"] == dict(type="bool", default=False)
    assert spec["file_max_bytes"] == dict(type="int", default=20 * 1024 * 1024)


# ----------------------------------------------------------------------------
# restore: only what a backup wrote (issue 8, S2)


def _backup_of(tmp_path, data, attribute="thumbnailPhoto"):
    return _backup.write_backup(str(tmp_path / "backups"), ALICE, attribute, data, "ab" * 32, "updated")


def test_restore_of_a_file_that_no_backup_wrote_is_refused(tmp_path):
    """Regression (issue 8, S2): failed before the fix, when restore_from: /etc/shadow stored that
    file's bytes in the user's thumbnailPhoto."""
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$salt$hash:19000:0:99999:7:::\n")
    with pytest.raises(_errors.BackupError, match="it has no sidecar") as info:
        _sources.build_source({"restore_from": str(secret)}).fetch(ALICE)
    assert "restore_foreign" in str(info.value)


def test_restore_of_text_with_a_forged_sidecar_is_refused(tmp_path):
    """Regression (issue 8, S2): failed before the fix (a sidecar with the right hash was enough)."""
    secret = tmp_path / "shadow"
    data = b"root:$6$salt$hash:19000:0:99999:7:::\n"
    secret.write_bytes(data)
    (tmp_path / "shadow.json").write_text(json.dumps(dict(
        format=1, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), attribute="thumbnailPhoto")))
    with pytest.raises(_errors.BackupError, match="not an image the pipeline reads"):
        _source_file.BackupSource(str(secret)).fetch(ALICE)
    with pytest.raises(_errors.BackupError, match="not an image the pipeline reads"):
        _source_file.BackupSource(str(secret), foreign=True).fetch(ALICE)


def test_restore_of_a_real_backup_works_from_either_file(tmp_path):
    old = jpeg((10, 200, 10))
    path = _backup_of(tmp_path, old)
    for given in (path, path + ".json"):
        source = _sources.build_source({"restore_from": given, "attribute": "thumbnailPhoto"})
        photo = source.fetch(ALICE)
        assert photo.data == old and photo.origin == path and source.normalize is False
        assert source.sidecar["dn"] == ALICE.dn


@pytest.mark.parametrize("change,message", [
    (dict(attribute="jpegPhoto"), "holds a jpegPhoto value, not thumbnailPhoto"),
    (dict(bytes=1), "does not match its sidecar"),
    (dict(sha256="00" * 32), "does not match its sidecar"),
    (dict(format=None), "not one this collection wrote"),
])
def test_restore_refuses_a_sidecar_that_does_not_match(tmp_path, change, message):
    """Regression (issue 8, S2): the attribute, size and format checks failed before the fix."""
    path = _backup_of(tmp_path, jpeg())
    sidecar = json.load(open(path + ".json"))
    sidecar.update(change)
    with open(path + ".json", "w") as handle:
        json.dump(sidecar, handle)
    with pytest.raises(_errors.BackupError, match=message):
        _source_file.BackupSource(path, attribute="thumbnailPhoto").fetch(ALICE)


def test_restore_of_a_tampered_or_truncated_backup_is_refused(tmp_path):
    path = _backup_of(tmp_path, jpeg())
    with open(path, "ab") as handle:
        handle.write(b"x")
    with pytest.raises(_errors.BackupError, match="does not match its sidecar"):
        _source_file.BackupSource(path).fetch(ALICE)


def test_restore_foreign_takes_an_image_without_a_sidecar(tmp_path):
    photo = tmp_path / "exported.jpg"
    photo.write_bytes(jpeg())
    with pytest.raises(_errors.BackupError, match="no sidecar"):
        _source_file.BackupSource(str(photo)).fetch(ALICE)
    source = _sources.build_source({"restore_from": str(photo), "restore_foreign": True})
    assert source.fetch(ALICE).data == jpeg() and source.sidecar is None
    assert source.describe() == "foreign file %s" % photo


def test_restore_from_a_device_or_an_oversize_file_is_refused(tmp_path):
    with pytest.raises(_errors.BackupError, match="not a regular file"):
        _source_file.BackupSource("/dev/zero", foreign=True).fetch(ALICE)
    path = _backup_of(tmp_path, jpeg())
    with pytest.raises(_errors.BackupError, match="more than file_max_bytes"):
        _source_file.BackupSource(path, max_bytes=100).fetch(ALICE)
    with open(path + ".json", "ab") as handle:
        handle.write(b" " * 70000)
    with pytest.raises(_errors.BackupError, match="sidecar"):
        _source_file.BackupSource(path).fetch(ALICE)


# ----------------------------------------------------------------------------
# a folder of per-person files


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    return root


def test_templates_are_tried_in_order(folder):
    (folder / "alice.jpg").write_bytes(jpeg((1, 1, 1)))
    (folder / "alice.adams@example.test.png").write_bytes(b"by-mail")
    (folder / "E1001.webp").write_bytes(b"by-employee-id")
    (folder / "bob@example.test.jpeg").write_bytes(b"by-upn")
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.jpg", "{userPrincipalName}.*", "{mail}.*",
                                                     "{employeeID}.*"])
    got = source.fetch(ALICE)
    assert got.data == jpeg((1, 1, 1)) and got.origin == os.path.realpath(str(folder / "alice.jpg"))
    assert source.fetch(BOB).data == b"by-upn"
    only_mail = _source_file.FolderSource(str(folder), ["{mail}.*", "{employeeID}.*"])
    assert only_mail.fetch(ALICE).data == b"by-mail"
    assert only_mail.fetch(BOB) is None  # bob has no mail and no employeeID
    by_id = _source_file.FolderSource(str(folder), ["{employeeID}.*"])
    assert by_id.fetch(ALICE).data == b"by-employee-id"
    assert by_id.attributes() == ["employeeID"]
    assert source.attributes() == ["sAMAccountName", "userPrincipalName", "mail", "employeeID"]


def test_any_extension_is_chosen_deterministically_and_case_insensitively(folder):
    (folder / "carol.PNG").write_bytes(b"png")
    (folder / "carol.webp").write_bytes(b"webp")
    (folder / "carol.txt").write_bytes(b"text")
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.*"])
    assert source.fetch(person("carol")).data == b"png"  # png before webp in IMAGE_EXTENSIONS
    (folder / "carol.jpg").write_bytes(b"jpg")
    assert _source_file.FolderSource(str(folder), ["{sAMAccountName}.*"]).fetch(person("carol")).data == b"jpg"
    (folder / "Dave.jpg").write_bytes(b"upper")
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.*"])  # the folder is listed once per source
    assert source.fetch(person("dave")).data == b"upper"
    (folder / "dave.jpg").write_bytes(b"exact")
    fresh = _source_file.FolderSource(str(folder), ["{sAMAccountName}.jpg"])
    assert fresh.fetch(person("dave")).data == b"exact"  # the exact name wins over a case variant
    assert fresh.fetch(person("DAVE")).data == b"upper"  # no exact 'DAVE.jpg': first sorted case match


@pytest.mark.parametrize("value,reason", [
    ("../outside", "path separator"),
    ("..", "starts with a dot"),
    ("/etc/passwd", "path separator"),
    ("a\\..\\..\\outside", "path separator"),
    ("alice\x00bob", "NUL"),
    ("bad\nname", "control character"),
    ("con", "reserved device name"),
    ("LPT1", "reserved device name"),
    (".hidden", "starts with a dot"),
    ("x" * 300, "longer than 255 bytes"),
    ("\u00e9" * 130, "longer than 255 bytes"),
])
def test_unsafe_values_are_refused_and_nothing_outside_is_read(folder, value, reason):
    """Issue 12: values that build file names - ../, absolute paths, NUL, reserved and over-long
    names - are refused, never read outside photo_dir."""
    (folder.parent / "outside.jpg").write_bytes(b"secret")
    (folder / "outside.jpg").write_bytes(b"inside")
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.jpg"])
    with pytest.raises(_errors.SourceError, match="refusing the photo file name") as info:
        source.fetch(person(value))
    assert reason in str(info.value)
    results = list(source.prefetch([person(value)]))
    assert isinstance(results[0][1], _errors.SourceError)


def test_an_unsafe_value_does_not_hide_a_later_safe_match_but_is_an_error_without_one(folder):
    (folder / "ok@example.test.jpg").write_bytes(b"by-mail")
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.jpg", "{mail}.*"])
    assert source.fetch(person("../x", mail="ok@example.test")).data == b"by-mail"
    with pytest.raises(_errors.SourceError):  # an error, never "no photo": it must not clear a photo
        source.fetch(person("../x", mail="nobody@example.test"))


def test_links_out_of_the_folder_are_refused_links_inside_share_an_origin(folder):
    (folder.parent / "secret.jpg").write_bytes(b"secret")
    os.symlink(str(folder.parent / "secret.jpg"), str(folder / "eve.jpg"))
    (folder / "real.jpg").write_bytes(b"real")
    os.symlink("real.jpg", str(folder / "frank.jpg"))
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.jpg"])
    with pytest.raises(_errors.SourceError, match="link to a file outside"):
        source.fetch(person("eve"))
    assert source.fetch(person("frank")).origin == source.fetch(person("real")).origin  # ambiguous for the sync
    assert source.fetch(person("frank")).origin == os.path.realpath(str(folder / "real.jpg"))


def test_folder_files_must_be_regular_and_within_the_limit(folder):
    os.mkfifo(str(folder / "gina.jpg"))
    (folder / "hank.jpg").write_bytes(b"x" * 2000)
    (folder / "ida.jpg").mkdir()
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.jpg"], max_bytes=1000)
    with pytest.raises(_errors.SourceError, match="FIFO"):
        source.fetch(person("gina"))
    with pytest.raises(_errors.SourceError, match="more than file_max_bytes"):
        source.fetch(person("hank"))
    with pytest.raises(_errors.SourceError, match="a folder"):
        source.fetch(person("ida"))


def test_list_keys_are_the_image_files_in_origin_form(folder):
    for name in ("a.jpg", "B.PNG", "c.webp", "notes.txt", ".hidden.jpg"):
        (folder / name).write_bytes(b"x")
    (folder / "sub.jpg").mkdir()
    os.symlink(str(folder.parent), str(folder / "up.jpg"))
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.*"])
    root = os.path.realpath(str(folder))
    assert source.list_keys() == sorted(os.path.join(root, n) for n in ("a.jpg", "B.PNG", "c.webp"))
    assert source.fetch(person("a")).origin in source.list_keys()


def test_prefetch_is_lazy_and_yields_none_photos_and_errors(folder):
    (folder / "alice.jpg").write_bytes(b"a")
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.jpg"])
    people = iter([ALICE, BOB, person("../x")])
    results = source.prefetch(people)
    first = next(results)
    assert first[0] is ALICE and first[1].data == b"a"
    assert next(people).sam_account_name == "bob"  # nothing consumed ahead
    rest = list(results)
    assert [(p.sam_account_name, type(r).__name__) for p, r in rest] == [("../x", "SourceError")]


@pytest.mark.parametrize("templates", [
    ["photo.jpg"], ["{sAMAccountName.__class__}.jpg"], ["{sAMAccountName!r}.jpg"], ["{0}.jpg"],
    ["sub/{sAMAccountName}.jpg"], ["{sAMAccountName}*.jpg"], [""], [], ["{sAMAccountName"],
])
def test_bad_templates_are_configuration_errors(folder, templates):
    with pytest.raises(_errors.ConfigurationError):
        _source_file.FolderSource(str(folder), templates)


def test_photo_dir_must_be_a_folder(tmp_path):
    with pytest.raises(_errors.ConfigurationError, match="is not a folder"):
        _source_file.FolderSource(str(tmp_path / "missing"), ["{sAMAccountName}.jpg"])


def test_unreadable_folder_is_a_run_wide_error(folder):
    source = _source_file.FolderSource(str(folder), ["{sAMAccountName}.jpg"])
    os.rmdir(str(folder))  # gone after the source was built: the listing fails
    with pytest.raises(_errors.SourceError, match="cannot list photo_dir") as info:
        source.fetch(ALICE)
    assert info.value.run_wide is True


def test_build_folder_source_from_params(folder):
    assert _source_file.build_folder_source({"photo_dir": None}) is None
    source = _source_file.build_folder_source({"photo_dir": str(folder), "photo_name_templates": ["{mail}.*"],
                                               "file_max_bytes": 5000})
    assert source.attributes() == ["mail"] and source.max_bytes == 5000
    default = _source_file.build_folder_source({"photo_dir": str(folder)})
    assert [t.text for t in default.templates] == ["{sAMAccountName}.*"]
    assert default.max_bytes == _source_file.DEFAULT_FILE_MAX_BYTES
