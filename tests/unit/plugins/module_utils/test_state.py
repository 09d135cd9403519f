# -*- coding: utf-8 -*-
"""Change tracking state (_state): what makes a run incremental, what forces a full read."""

import json
import os
import stat

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _state
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser

POINT = dict(service_name="CN=NTDS Settings,CN=DC1,CN=Servers,CN=Site,CN=Sites,CN=Configuration,DC=example,DC=test",
             invocation_id="f5222283-6af5-447b-b343-4bb3bdad8e4a", highest_usn=5000, server="dc1:636")
FP = _state.scope_fingerprint(search_base="OU=People,DC=example,DC=test", filter=None, scope="subtree",
                              attribute="thumbnailPhoto", profile="abc", source="folder")


def user(name):
    return DirectoryUser("CN=%s,DC=example,DC=test" % name, name, name + "@example.test", None,
                         "guid-" + name, None, name.title())


def photo(sha):
    return dict(sha256=sha, bytes=1000, width=96, height=96, format="JPEG")


def run_full(state_dir, names=("alice", "bob"), point=None, fingerprint=FP):
    """A first run: everyone read, alice written, bob already in sync; then committed."""
    point = point or POINT
    tracker = _state.ChangeTracker(state_dir, fingerprint).begin(point)
    assert tracker.full
    tracker.record("guid-alice", 4000, user("alice"), "update", photo("a" * 64), "file:1:2", "s" * 64,
                   written=True)
    for name in names[1:]:
        tracker.record("guid-" + name, 4100, user(name), "in_sync", photo(name[0] * 64), "file:3:4", "t" * 64)
    end = dict(point, highest_usn=point["highest_usn"] + 10)
    tracker.commit(end, [("guid-alice", 5003, "a" * 64)])
    return end


def test_first_run_is_full_and_commit_is_owner_only(tmp_path):
    run_full(str(tmp_path / "state"))
    files = os.listdir(str(tmp_path / "state"))
    assert len(files) == 1
    mode = stat.S_IMODE(os.stat(str(tmp_path / "state" / files[0])).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / "state")).st_mode) == 0o700


def test_second_run_is_incremental_from_recorded_usn(tmp_path):
    end = run_full(str(tmp_path))
    tracker = _state.ChangeTracker(str(tmp_path), FP).begin(dict(end, highest_usn=end["highest_usn"] + 5))
    assert not tracker.full, tracker.reason
    assert tracker.since_usn == end["highest_usn"] + 1
    read, carried = tracker.partition([])
    assert read == set()
    assert sorted(r.guid for r in carried) == ["guid-alice", "guid-bob"]
    alice = [r for r in carried if r.guid == "guid-alice"][0]
    assert alice.usn == 5003 and alice.photo["sha256"] == "a" * 64 and alice.status == "in_sync"
    assert alice.user_fields()["sam_account_name"] == "alice"


def test_partition_reads_moved_and_new_people_and_drops_leavers(tmp_path):
    end = run_full(str(tmp_path), names=("alice", "bob", "carol"))
    tracker = _state.ChangeTracker(str(tmp_path), FP).begin(end)
    # bob's uSNChanged moved, dave is new, alice reappears with her recorded usn (no change),
    # carol changed somewhere else in the domain and is no longer under the scope.
    read, carried = tracker.partition([("guid-bob", 6000), ("guid-dave", 6001), ("guid-alice", 5003)],
                                      gone=["guid-carol", "guid-bob", "guid-other"])
    assert read == {"guid-bob", "guid-dave"}
    assert [r.guid for r in carried] == ["guid-alice"]
    assert "guid-carol" in tracker.dropped


def test_written_person_not_seen_by_settle_search_is_read_next_time(tmp_path):
    tracker = _state.ChangeTracker(str(tmp_path), FP).begin(POINT)
    tracker.record("guid-alice", 4000, user("alice"), "add", photo("a" * 64), None, "s" * 64, written=True)
    tracker.commit(dict(POINT, highest_usn=5001), [])
    data = json.load(open(_state.state_path(str(tmp_path), FP)))
    assert data["people"] == {}


def test_settle_drops_person_whose_photo_changed_meanwhile(tmp_path):
    tracker = _state.ChangeTracker(str(tmp_path), FP).begin(POINT)
    tracker.record("guid-alice", 4000, user("alice"), "in_sync", photo("a" * 64), None, "s" * 64)
    tracker.commit(dict(POINT, highest_usn=5001), [("guid-alice", 5001, "b" * 64)])
    data = json.load(open(_state.state_path(str(tmp_path), FP)))
    assert "guid-alice" not in data["people"]


@pytest.mark.parametrize("status", ["conflict", "error", "invalid_source"])
def test_unsettled_outcomes_are_not_recorded(tmp_path, status):
    tracker = _state.ChangeTracker(str(tmp_path), FP).begin(POINT)
    tracker.record("guid-alice", 4000, user("alice"), status, None)
    tracker.commit(POINT, [])
    assert json.load(open(_state.state_path(str(tmp_path), FP)))["people"] == {}


def _begin_after(tmp_path, point, fingerprint=FP, verify="changed"):
    return _state.ChangeTracker(str(tmp_path), fingerprint, verify).begin(point)


def test_other_dc_restored_dc_and_usn_behind_force_full_read(tmp_path):
    end = run_full(str(tmp_path))
    other = _begin_after(tmp_path, dict(end, service_name="CN=NTDS Settings,CN=DC2,CN=Servers"))
    assert other.full and "another DC" in other.reason
    restored = _begin_after(tmp_path, dict(end, invocation_id="00000000-0000-0000-0000-000000000001"))
    assert restored.full and "invocationId" in restored.reason
    behind = _begin_after(tmp_path, dict(end, highest_usn=end["highest_usn"] - 1))
    assert behind.full and "ahead" in behind.reason
    forced = _begin_after(tmp_path, end, verify="full")
    assert forced.full and forced.reason == "verify=full"


def test_other_scope_missing_and_corrupt_files_force_full_read(tmp_path):
    end = run_full(str(tmp_path))
    path = _state.state_path(str(tmp_path), FP)
    other_fp = _state.scope_fingerprint(search_base="OU=Other", filter=None, scope="subtree",
                                        attribute="thumbnailPhoto", profile="abc", source="folder")
    # A file of another scope copied over this scope's name.
    run_full(str(tmp_path / "x"), fingerprint=other_fp)
    os.rename(_state.state_path(str(tmp_path / "x"), other_fp), path)
    assert "another scope" in _begin_after(tmp_path, end).reason
    os.unlink(path)
    assert _begin_after(tmp_path, end).reason == "no state file yet"
    run_full(str(tmp_path))
    data = json.load(open(path))
    data["people"]["guid-bob"][0] = 1  # edited by hand: checksum no longer matches
    with open(path, "w") as handle:
        json.dump(data, handle)
    assert "checksum" in _begin_after(tmp_path, end).reason
    with open(path, "wb") as handle:
        handle.write(b"\x00garbage{")
    assert "not JSON" in _begin_after(tmp_path, end).reason
    with open(path, "w") as handle:
        json.dump({"schema": "someone/else"}, handle)
    assert "not a photosync.ad" in _begin_after(tmp_path, end).reason


def test_profile_or_source_change_changes_fingerprint():
    base = dict(search_base="b", filter=None, scope="subtree", attribute="thumbnailPhoto", profile="p1", source="s")
    assert _state.scope_fingerprint(**base) == _state.scope_fingerprint(**dict(base))
    for name, value in (("profile", "p2"), ("source", "t")):
        changed = dict(base)
        changed[name] = value
        assert _state.scope_fingerprint(**base) != _state.scope_fingerprint(**changed)


def test_source_unchanged_rules():
    rec = _state.PersonRecord("g", 1, {}, photo("a" * 64), "file:1:2", "s" * 64, "in_sync")
    assert _state.ChangeTracker.source_unchanged(rec, version="file:1:2")
    assert not _state.ChangeTracker.source_unchanged(rec, version="file:1:3")
    assert not _state.ChangeTracker.source_unchanged(rec, version=None)
    assert _state.ChangeTracker.source_unchanged(rec, data_sha256="s" * 64)
    assert not _state.ChangeTracker.source_unchanged(rec, data_sha256="t" * 64)
    assert not _state.ChangeTracker.source_unchanged(rec, absent=True)
    gone = _state.PersonRecord("g", 1, {}, None, None, None, "no_source")
    assert _state.ChangeTracker.source_unchanged(gone, absent=True)


def test_file_version_moves_with_content(tmp_path):
    path = str(tmp_path / "a.jpg")
    assert _state.file_version(path) is None
    with open(path, "wb") as handle:
        handle.write(b"one")
    first = _state.file_version(path)
    with open(path, "wb") as handle:
        handle.write(b"three")
    assert _state.file_version(path) != first


def test_state_holds_no_photo_bytes_or_source_text(tmp_path):
    fp = _state.scope_fingerprint(source="https://user:s3cret@example.test/{sAMAccountName}.jpg")
    tracker = _state.ChangeTracker(str(tmp_path), fp).begin(POINT)
    tracker.record("guid-alice", 4000, user("alice"), "in_sync", photo("a" * 64), '"etag"', "s" * 64)
    tracker.commit(POINT, [])
    text = open(_state.state_path(str(tmp_path), fp)).read()
    assert "s3cret" not in text and "example.test/" not in text


def test_verify_must_be_known():
    with pytest.raises(_errors.ConfigurationError):
        _state.ChangeTracker("/nonexistent", FP, verify="sometimes")


def test_dc_failover_during_run_removes_state(tmp_path):
    end = run_full(str(tmp_path))
    tracker = _begin_after(tmp_path, end)
    assert tracker.commit(dict(end, service_name="CN=DC2"), []) is None
    assert not os.path.exists(_state.state_path(str(tmp_path), FP))
