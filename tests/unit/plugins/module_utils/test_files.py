import os

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _files


@pytest.mark.parametrize("value,expected", [
    ("alice", "alice.jpg"),
    ("../../etc/passwd", "___.._etc_passwd.jpg"),
    ("a*b", "a_b.jpg"),
    (".hidden", "_hidden.jpg"),
    ("(paren)", "(paren).jpg"),
    ("Zoë", "Zoë.jpg"),
    ("..", "__.jpg"),
])
def test_render_name_is_one_safe_name(value, expected):
    assert _files.render_name("{sAMAccountName}.jpg", {"sAMAccountName": value}) == expected


def test_missing_field_renders_empty_and_template_needs_a_field():
    assert _files.render_name("{mail}-{sAMAccountName}.jpg", {"sAMAccountName": "bob", "mail": None}) == "-bob.jpg"
    with pytest.raises(_errors.ConfigurationError):
        _files.render_name("photo.jpg", {})


def test_safe_path_refuses_escape(tmp_path):
    assert _files.safe_path(str(tmp_path), "a.jpg") == os.path.join(os.path.realpath(str(tmp_path)), "a.jpg")
    with pytest.raises(_errors.ConfigurationError):
        _files.safe_path(str(tmp_path), "../a.jpg")
    (tmp_path / "link").symlink_to("/etc")
    with pytest.raises(_errors.ConfigurationError):
        _files.safe_path(str(tmp_path), "link/passwd")


def test_atomic_write_replaces_whole_file(tmp_path):
    path = str(tmp_path / "x.jpg")
    _files.atomic_write(path, b"one")
    _files.atomic_write(path, b"two")
    assert open(path, "rb").read() == b"two"
    assert os.listdir(str(tmp_path)) == ["x.jpg"]
