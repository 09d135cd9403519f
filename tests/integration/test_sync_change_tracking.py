# -*- coding: utf-8 -*-
"""thumbnail_photo_sync with change tracking (state_dir) against the real Samba DC.

A warm run reads only what changed (uSNChanged polling); anything doubtful falls back to a full
read.  The directory is checked with plain ldap3 / dcread, never with the collection; the module
runs in-process like tests/integration/test_thumbnail_photo_sync.py."""

import glob
import io
import json
import os
import uuid

import ldap3
import pytest
from PIL import Image

import dcread
import scratch_people
from syncrun import run

from ansible_collections.photosync.ad.plugins.module_utils import _image

PROFILE = _image.ImageProfile()


def jpeg(colour, size=(300, 400)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def scope(dc, tmp_path):
    """An OU with 6 people, a photo folder with a photo for each, and state/cache folders."""
    ou = scratch_people.create_ou(dc)
    names = ["ct%s%d" % (uuid.uuid4().hex[:6], i) for i in range(6)]
    scratch_people.add_people(dc, ou, [dict(sam=n) for n in names])
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, name in enumerate(names):
        (folder / (name + ".jpg")).write_bytes(jpeg((40 * i, 120, 200 - 20 * i)))
    info = dict(ou=ou, names=names, folder=folder, dns=[scratch_people.person_dn(ou, n) for n in names],
                args=dict(search_base=ou, photo_dir=str(folder), photo_name_templates=["{sAMAccountName}.jpg"],
                          state_dir=str(tmp_path / "state"), cache_dir=str(tmp_path / "cache")))
    yield info
    scratch_people.delete_ou(dc, ou)


def state_file(scope):
    files = glob.glob(os.path.join(scope["args"]["state_dir"], "photosync-state-*.json"))
    assert len(files) == 1, files
    return files[0]


def cold_then_warm(dc, capsys, scope):
    cold = run(dc, capsys, **scope["args"])
    assert cold["written"] == 6 and cold["change_tracking"]["mode"] == "full"
    warm = run(dc, capsys, **scope["args"])
    track = warm["change_tracking"]
    assert track["mode"] == "incremental", track
    assert track["read"] == 0 and track["carried"] == 6
    assert warm["counts"]["in_sync"] == 6 and not warm["changed"]
    return warm


def test_warm_run_reads_nothing_and_state_is_owner_only(dc, capsys, scope):
    cold_then_warm(dc, capsys, scope)
    for dn, name in zip(scope["dns"], scope["names"]):
        data = (scope["folder"] / (name + ".jpg")).read_bytes()
        assert dcread.read_photo(dn) == _image.normalize(data, PROFILE).data
    path = state_file(scope)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    text = open(path).read()
    assert dc["admin"]["password"] not in text and "thumbnailPhoto" not in text


def test_photo_changed_by_another_writer_is_found_by_the_next_warm_run(dc, capsys, scope, ldap_connect):
    cold_then_warm(dc, capsys, scope)
    victim = scope["dns"][2]
    ldap_connect().modify(victim, {"thumbnailPhoto": [(ldap3.MODIFY_REPLACE, [jpeg((0, 0, 0), (50, 50))])]})
    warm = run(dc, capsys, **scope["args"])
    assert warm["change_tracking"]["read"] == 1 and warm["change_tracking"]["carried"] == 5
    assert warm["written"] == 1 and [p["dn"] for p in warm["not_in_sync"]] == [victim]
    data = (scope["folder"] / (scope["names"][2] + ".jpg")).read_bytes()
    assert dcread.read_photo(victim) == _image.normalize(data, PROFILE).data
    again = run(dc, capsys, **scope["args"])
    assert again["change_tracking"]["read"] == 0 and not again["changed"]


def test_changed_source_and_new_person_are_read(dc, capsys, scope):
    cold_then_warm(dc, capsys, scope)
    changed = scope["folder"] / (scope["names"][0] + ".jpg")
    changed.write_bytes(jpeg((250, 250, 0)))
    newcomer = "ctnew%s" % uuid.uuid4().hex[:6]
    scratch_people.add_people(dc, scope["ou"], [dict(sam=newcomer)])
    (scope["folder"] / (newcomer + ".jpg")).write_bytes(jpeg((0, 250, 0)))
    warm = run(dc, capsys, **scope["args"])
    assert warm["change_tracking"]["mode"] == "incremental"
    assert warm["written"] == 2 and warm["total"] == 7
    assert dcread.read_photo(scope["dns"][0]) == _image.normalize(changed.read_bytes(), PROFILE).data
    assert dcread.read_photo(scratch_people.person_dn(scope["ou"], newcomer)) is not None


def test_person_deleted_or_moved_out_is_dropped(dc, capsys, scope, ldap_connect):
    cold_then_warm(dc, capsys, scope)
    conn = ldap_connect()
    conn.delete(scope["dns"][4])
    other = scratch_people.create_ou(dc)
    try:
        conn.modify_dn(scope["dns"][5], "CN=%s" % scope["names"][5], new_superior=other)
        warm = run(dc, capsys, **scope["args"])
        assert warm["change_tracking"]["mode"] == "incremental"
        assert warm["change_tracking"]["dropped"] == 2 and warm["total"] == 4
    finally:
        scratch_people.delete_ou(dc, other)


def _edit_state(scope, **dc_fields):
    path = state_file(scope)
    with open(path) as handle:
        data = json.load(handle)
    data["dc"].update(dc_fields)
    with open(path, "w") as handle:
        json.dump(data, handle)


@pytest.mark.parametrize("case", ["other_dc", "restored_dc", "other_scope", "deleted", "corrupt", "profile",
                                  "verify_full"])
def test_doubt_falls_back_to_a_full_read(dc, capsys, scope, tmp_path, case):
    """Each kind of doubt reads every person again (and still writes nothing that is in sync)."""
    cold_then_warm(dc, capsys, scope)
    args = dict(scope["args"])
    if case == "other_dc":
        _edit_state(scope, service_name="CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,"
                                        "CN=Configuration," + dc["base_dn"])
    elif case == "restored_dc":
        _edit_state(scope, invocation_id=str(uuid.uuid4()))
    elif case == "other_scope":
        # The state of another scope (same OU, other filter) put under this scope's file name.
        other = dict(args, filter="(sAMAccountName=ct*)")
        run(dc, capsys, **other)
        files = glob.glob(os.path.join(args["state_dir"], "photosync-state-*.json"))
        mine = [f for f in files if f != max(files, key=os.path.getmtime)][0]
        os.replace(max(files, key=os.path.getmtime), mine)
    elif case == "deleted":
        os.unlink(state_file(scope))
    elif case == "corrupt":
        with open(state_file(scope), "r+b") as handle:
            handle.seek(40)
            handle.write(b"\x00garbage")
    elif case == "profile":
        args["max_dimension"] = 64
    elif case == "verify_full":
        args["verify"] = "full"
    result = run(dc, capsys, **args)
    track = result["change_tracking"]
    assert track["mode"] == "full", track
    assert track["read"] == 6 and track["carried"] == 0
    assert track["reason"]
    if case == "profile":
        assert result["written"] == 6  # the new profile makes smaller photos for everybody
    else:
        assert result["counts"]["in_sync"] == 6 and result["written"] == 0
    args.pop("verify", None)
    after = run(dc, capsys, **args)  # the full read recorded a fresh state
    assert after["change_tracking"]["mode"] == "incremental" and after["change_tracking"]["read"] == 0


def test_check_mode_uses_state_but_never_writes_it(dc, capsys, scope):
    cold_then_warm(dc, capsys, scope)
    path = state_file(scope)
    before = open(path, "rb").read()
    (scope["folder"] / (scope["names"][1] + ".jpg")).write_bytes(jpeg((1, 2, 3)))
    check = run(dc, capsys, check_mode=True, **scope["args"])
    assert check["change_tracking"]["mode"] == "incremental"
    assert check["counts"]["update"] == 1 and check["written"] == 0 and check["changed"]
    assert open(path, "rb").read() == before
