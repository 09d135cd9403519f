"""thumbnail_photo_info's logic (_photo_info.collect) against the real Samba DC (14).

Exported files are compared with what dcread (ldapsearch) reads from the directory.
"""

import hashlib
import os

import pytest

import dcread
from ansible_collections.photosync.ad.plugins.module_utils import _errors, _ldap, _photo_info


def settings(dc, **overrides):
    options = dict(server=[dc["server"]], ca_cert=dc["ca_cert"], username=dc["admin"]["username"],
                   password=dc["admin"]["password"])
    options.update(overrides)
    return _ldap.ConnectionSettings(**options)


def params(**overrides):
    values = dict(identities=None, identity_type="auto", filter=None, scope="subtree", search_base=None,
                  attribute="thumbnailPhoto", include_metadata=False, include_content=False, export_dir=None,
                  export_name=_photo_info.DEFAULT_EXPORT_NAME, fail_on_unresolved=False)
    values.update(overrides)
    return values


@pytest.fixture
def directory(dc):
    with _ldap.Directory(settings(dc)) as opened:
        yield opened


def test_unknown_and_ambiguous_names_are_reported_per_entry(dc, directory, tmp_path):
    """14: failed before the fix - one unknown name in identities failed the whole task, after export
    files had been written for the names before it."""
    export = tmp_path / "export"
    users = _photo_info.collect(directory, params(
        identities=["alice", "no-such-user", dc["shared_mail"], "bob"], export_dir=str(export)))
    assert [u["identity"] for u in users] == ["alice", "no-such-user", dc["shared_mail"], "bob"]
    assert [u["found"] for u in users] == [True, False, False, True]
    assert "no user matches" in users[1]["lookup_error"] and "no-such-user" in users[1]["lookup_error"]
    assert "2 objects match" in users[2]["lookup_error"]
    assert users[1]["dn"] is None and users[1]["has_photo"] is None and users[1]["file"] is None
    for entry in (users[0], users[3]):
        assert entry["lookup_error"] is None
        stored = dcread.read_photo(entry["dn"], dc_info=dc)
        if stored is None:
            assert entry["sha256"] is None and entry["file"] is None
        else:
            assert entry["sha256"] == hashlib.sha256(stored).hexdigest()
            assert open(entry["file"], "rb").read() == stored
    assert users[0]["file"]  # alice has a photo: her export was written although a later name failed
    assert _photo_info.unresolved(users) == ["no-such-user", dc["shared_mail"]]


def test_fail_on_unresolved_fails_after_reporting_everyone(dc, directory, tmp_path):
    """14: with fail_on_unresolved the task fails, but only at the end, naming every unresolved entry."""
    users = _photo_info.collect(directory, params(identities=["no-such-user", "alice", "nobody-either"],
                                                  export_dir=str(tmp_path)))
    with pytest.raises(_errors.UserNotFound) as info:
        _photo_info.check_unresolved(users, params(fail_on_unresolved=True))
    assert "no-such-user" in str(info.value) and "nobody-either" in str(info.value)
    assert users[1]["file"] and os.path.isfile(users[1]["file"])  # alice was still reported and exported
    _photo_info.check_unresolved(users, params(fail_on_unresolved=False))  # the default only reports


def test_malformed_identity_fails_before_anything_is_written(dc, directory, tmp_path):
    """14/S4: an identity that can never be valid (a control character) fails before any export."""
    export = tmp_path / "export"
    with pytest.raises(_errors.ConfigurationError, match="control character"):
        _photo_info.collect(directory, params(identities=["alice", "bob\x00"], export_dir=str(export)))
    assert not export.exists() or not os.listdir(str(export))


@pytest.mark.parametrize("export_name", [_photo_info.DEFAULT_EXPORT_NAME, "{sAMAccountName}.jpg"])
def test_non_image_is_not_exported_as_jpg(dc, directory, tmp_path, export_name):
    """14: failed before the fix - a value that is not an image was exported as <name>.jpg."""
    users = _photo_info.collect(directory, params(identities=["notanimage", "alice"], export_dir=str(tmp_path),
                                                  export_name=export_name))
    broken, alice = users
    assert not broken["valid"]
    assert broken["file"].endswith("notanimage.txt"), broken["file"]
    assert open(broken["file"], "rb").read() == dcread.read_photo(dc["users"]["notanimage"]["dn"], dc_info=dc)
    assert alice["file"].endswith("alice.jpg"), alice["file"]


def test_export_extension_follows_the_format(dc, directory, tmp_path, scratch_user):
    """14: the {ext} field names what the value is: png for a PNG, bin for binary that is no image."""
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buf, "PNG")
    png = scratch_user(photo=buf.getvalue())
    binary = scratch_user(photo=b"\x00\x01\x02\xffnot an image")
    users = _photo_info.collect(directory, params(identities=[png["dn"], binary["dn"]], export_dir=str(tmp_path)))
    assert users[0]["file"].endswith("%s.png" % png["sAMAccountName"])
    assert users[1]["file"].endswith("%s.bin" % binary["sAMAccountName"])
