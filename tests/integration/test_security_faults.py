"""Issue 12, faults: what a bulk sync promises when the directory, the backup folder or the cache fails.

Every test runs thumbnail_photo_sync in-process (AnsibleModule) against this worktree's real Samba DC and
verifies the directory with an independent reader (plain ldap3 paged search or dcread/ldapsearch), never
with the collection.  The DC-kill test really SIGKILLs the test DC's samba process (it belongs to the
developer running the tests, see docs/development.md) and starts it again with tests/support/samba-dc.

The promises and the test that proves each are listed in docs/security.md.
"""

import hashlib
import io
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import ldap3
import pytest
from PIL import Image

import dcread
import scratch_people
from syncrun import run

from ansible_collections.photosync.ad.plugins.module_utils import _image

PROFILE = _image.ImageProfile()
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# How many people the DC-kill test syncs (2,000 in CI; lower it on a machine shared with other work).
BULK = int(os.environ.get("PHOTOSYNC_KILL_TEST_PEOPLE", "2000"))


def jpeg(rgb, size=(120, 120), mark=None):
    """A JPEG of one colour; ``mark`` (an int) drawn as black squares, one per bit, so each is unique."""
    image = Image.new("RGB", size, rgb)
    if mark is not None:
        for bit in range(12):
            if mark >> bit & 1:
                x, y = (bit % 4) * 16, (bit // 4) * 16
                image.paste((0, 0, 0), (x, y, x + 12, y + 12))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def sha(data):
    return hashlib.sha256(data).hexdigest() if data is not None else None


def read_all(dc, base, attribute="thumbnailPhoto"):
    """sAMAccountName -> photo bytes (or None) for everybody below ``base``: plain ldap3, paged."""
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=dc["ca_cert"])
    server = ldap3.Server(dc["server"], port=dc["ldaps_port"], use_ssl=True, tls=tls, connect_timeout=5)
    conn = ldap3.Connection(server, user=dc["admin"]["username"], password=dc["admin"]["password"],
                            auto_bind=True, raise_exceptions=True, receive_timeout=60)
    try:
        found = {}
        entries = conn.extend.standard.paged_search(base, "(objectClass=user)", paged_size=500, generator=True,
                                                    attributes=["sAMAccountName", attribute])
        for entry in entries:
            if entry.get("type") != "searchResEntry":
                continue
            values = entry["raw_attributes"].get(attribute) or []
            found[entry["raw_attributes"]["sAMAccountName"][0].decode()] = bytes(values[0]) if values else None
        return found
    finally:
        conn.unbind()


def delete_tree(dc, base):
    """Tree delete with room for Samba's pace (about 40 s for 2,000 people)."""
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=dc["ca_cert"])
    server = ldap3.Server(dc["server"], port=dc["ldaps_port"], use_ssl=True, tls=tls, connect_timeout=5)
    conn = ldap3.Connection(server, user=dc["admin"]["username"], password=dc["admin"]["password"],
                            auto_bind=True, raise_exceptions=False, receive_timeout=600)
    try:
        conn.delete(base, controls=[("1.2.840.113556.1.4.805", True, None)])
    finally:
        conn.unbind()


# --- killing and restarting this worktree's DC -----------------------------------------------------------

def _samba_pid(dc):
    with open(os.path.join(dc["dir"], "run", "samba.pid")) as handle:
        pid = int(handle.read().split()[0])
    with open("/proc/%d/cmdline" % pid, "rb") as handle:
        assert b"samba" in handle.read(), "pid %d is not samba" % pid
    return pid


def kill_dc(dc):
    os.kill(_samba_pid(dc), signal.SIGKILL)


def dc_is_up(dc):
    try:
        dcread.read_entry(dc["base_dn"], ["dc"], dc_info=dc)
        return True
    except dcread.DcReadError:
        return False


def start_dc(dc):
    """Start the (killed) DC again with the project's own script; it answers LDAPS when this returns."""
    env = dict(os.environ, PHOTOSYNC_DC_DIR=dc["dir"], PHOTOSYNC_DC_ADDR=dc["server"], PYTHON=sys.executable)
    pidfile = os.path.join(dc["dir"], "run", "samba.pid")
    for dummy in range(50):  # the kernel takes a moment to reap a SIGKILLed process
        try:
            _samba_pid(dc)
        except (OSError, ValueError, AssertionError):
            break
        time.sleep(0.1)
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    done = subprocess.run([os.path.join(REPO, "tests", "support", "samba-dc"), "start"], env=env, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=180)
    assert done.returncode == 0, done.stdout
    assert dc_is_up(dc)


class Killer(threading.Thread):
    """Watches the module's progress_file (written by the module while it runs) and SIGKILLs the DC once
    the run is in ``phase`` with at least ``after`` people processed."""

    def __init__(self, dc, progress_file, phase, after):
        super(Killer, self).__init__(daemon=True)
        self.dc, self.progress_file, self.phase, self.after = dc, progress_file, phase, after
        self.killed_at = None
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                with open(self.progress_file) as handle:
                    progress = json.load(handle)
            except (IOError, OSError, ValueError):
                progress = {}
            if progress.get("phase") == self.phase and (progress.get("processed") or 0) >= self.after:
                kill_dc(self.dc)
                self.killed_at = progress
                return
            time.sleep(0.005)


@pytest.fixture(scope="module")
def bulk(dc):
    """2,000 people, each with their own old photo, and a folder with each one's own new photo."""
    folder = tempfile.mkdtemp(prefix="photosync-bulk-")
    people, old, source = [], {}, {}
    for i in range(BULK):
        sam = "k%04d" % i
        old[sam] = jpeg((240, 240, 120), (64, 64), mark=i)
        source[sam] = jpeg((120, 200, 240), (140, 100), mark=i)
        with open(os.path.join(folder, sam + ".jpg"), "wb") as handle:
            handle.write(source[sam])
        people.append(dict(sam=sam, photo=old[sam]))
    assert len(set(sha(v) for v in old.values())) == BULK and len(set(sha(v) for v in source.values())) == BULK
    base = scratch_people.create_ou(dc, "kill-%d" % os.getpid())
    scratch_people.add_people(dc, base, people, workers=4)
    new = dict((sam, _image.normalize(data, PROFILE).data) for sam, data in source.items())
    assert all(new[sam] != old[sam] for sam in new)
    yield dict(base=base, folder=folder, old=old, new=new)
    if not dc_is_up(dc):
        start_dc(dc)
    delete_tree(dc, base)
    shutil.rmtree(folder, ignore_errors=True)


def backups_by_user(backup_dir):
    """sAMAccountName -> [backup data] from the sidecars (the data file must match its sidecar's hash)."""
    found = {}
    for name in os.listdir(backup_dir):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(backup_dir, name)) as handle:
            sidecar = json.load(handle)
        with open(os.path.join(backup_dir, name[:-len(".json")]), "rb") as handle:
            data = handle.read()
        assert sha(data) == sidecar["sha256"]
        found.setdefault(sidecar["sAMAccountName"], []).append(data)
    return found


def classify(result):
    """written / failed / not attempted, from the module's own result (every person listed)."""
    written, failed, not_attempted = set(), set(), set()
    for person in result["not_in_sync"]:
        if person["written"]:
            written.add(person["user"])
        elif person["status"] == "error" and "not attempted" in person["reasons"]:
            not_attempted.add(person["user"])
        elif person["status"] in ("error", "conflict"):
            failed.add(person["user"])
    return written, failed, not_attempted


def test_dc_killed_mid_sync_lists_written_failed_not_attempted_and_loses_nothing(dc, bulk, capsys):
    """The DC is SIGKILLed during a 2,000-person sync at three points (while planning, after the first
    writes, well into the writes).  Each time the module fails and lists who was written, who failed and
    who was not attempted; nobody ever holds a value that is neither their old nor their new photo; every
    replaced photo has its backup; after the DC is back a re-run completes.

    Failed before the fix: ldap3's socket errors escaped as a module crash with no result at all."""
    backup_dir = tempfile.mkdtemp(prefix="photosync-kill-backups-", dir="/dev/shm")
    progress_file = os.path.join(backup_dir + "-progress.json")
    cache_dir = backup_dir + "-cache"
    args = dict(search_base=bulk["base"], photo_dir=bulk["folder"], backup_dir=backup_dir, cache_dir=cache_dir,
                progress_file=progress_file, max_listed=BULK + 10, timeout=20)
    old, new = bulk["old"], bulk["new"]
    faults = 0
    ever_written = set()
    try:
        for phase, after in (("planning", BULK // 7), ("writing", 1), ("writing", BULK * 3 // 10)):
            if os.path.exists(progress_file):
                os.unlink(progress_file)
            killer = Killer(dc, progress_file, phase, after)
            killer.start()
            try:
                result = run(dc, capsys, **args)
            finally:
                killer.stop.set()
                killer.join()
            assert killer.killed_at is not None, "the run ended before the DC could be killed at %s %d" % (
                phase, after)
            faults += 1
            assert result["failed"], result.get("msg")
            assert "the run stopped" in result["msg"] or "LDAP" in result["msg"] or "connection" in result["msg"]
            start_dc(dc)
            now = read_all(dc, bulk["base"])
            assert len(now) == BULK
            half = sorted(sam for sam, value in now.items() if value not in (old[sam], new[sam]))
            assert half == [], "neither old nor new photo: %s" % half[:10]
            changed = set(sam for sam, value in now.items() if value == new[sam])
            backups = backups_by_user(backup_dir)
            lost = sorted(sam for sam in changed if old[sam] not in backups.get(sam, []))
            assert lost == [], "replaced without a backup: %s" % lost[:10]
            if phase == "planning":
                assert changed == ever_written, "something was written although planning never finished"
                assert result.get("written", 0) == 0
                with capsys.disabled():
                    print("\nkilled while planning (%s): written 0, half-written 0" % killer.killed_at)
                continue
            written, failed, not_attempted = classify(result)
            with capsys.disabled():
                print("\nkilled while writing (%s): written %d, failed %d, not attempted %d, half-written 0, "
                      "replaced without backup 0" % (killer.killed_at, len(written), len(failed), len(not_attempted)))
            assert result["written"] == len(written) > 0 or after == 1
            assert not_attempted, "nobody listed as not attempted after the DC died mid-run"
            assert len(failed) <= 4  # the writes in flight when the DC died
            pending = set(sam for sam in now if sam not in ever_written)
            assert written | failed | not_attempted == pending, "somebody is not accounted for"
            assert written <= changed, "listed as written but the directory does not hold the new photo"
            assert not (not_attempted & changed), "listed as not attempted but written"
            assert all(now[sam] == old[sam] for sam in not_attempted)
            ever_written |= changed
        final = run(dc, capsys, **args)
        assert not final.get("failed"), final.get("msg")
        assert final["written"] == BULK - len(ever_written)
        now = read_all(dc, bulk["base"])
        assert all(now[sam] == new[sam] for sam in now)
        backups = backups_by_user(backup_dir)
        assert sorted(sam for sam in now if old[sam] not in backups.get(sam, [])) == []
        again = run(dc, capsys, **args)
        assert not again["changed"] and again["counts"]["in_sync"] == BULK
        with capsys.disabled():
            print("\nfaults injected: %d; users half-written: 0; photos lost: 0" % faults)
    finally:
        if not dc_is_up(dc):
            start_dc(dc)
        shutil.rmtree(backup_dir, ignore_errors=True)
        shutil.rmtree(cache_dir, ignore_errors=True)
        if os.path.exists(progress_file):
            os.unlink(progress_file)


# --- servers, TLS ---------------------------------------------------------------------------------------


def photo_folder(tmp_path, people):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, person in enumerate(people):
        (folder / ("%s.jpg" % person["sam"])).write_bytes(jpeg((30, 90, 200), mark=i + 1))
    return str(folder)


def normalized(path):
    with open(path, "rb") as handle:
        return _image.normalize(handle.read(), PROFILE).data


def test_a_server_in_the_list_that_is_down_is_skipped_for_the_next(dc, ou, tmp_path, capsys):
    """server: [down, down, the DC] - the sync binds to the first one that answers and writes everybody."""
    people = [dict(sam="sl-%d" % i) for i in range(3)]
    base = ou(people)
    folder = photo_folder(tmp_path, people)
    result = run(dc, capsys, server=["127.0.0.254", "127.0.0.253:6360", dc["server"]], search_base=base,
                 photo_dir=folder, connect_timeout=3)
    assert not result.get("failed"), result.get("msg")
    assert result["written"] == 3
    for person in people:
        assert dcread.read_photo(scratch_people.person_dn(base, person["sam"])) == \
            normalized(os.path.join(folder, person["sam"] + ".jpg"))


def test_every_server_down_fails_naming_each_and_writes_nothing(dc, ou, tmp_path, capsys):
    people = [dict(sam="sd-0")]
    base = ou(people)
    result = run(dc, capsys, server=["127.0.0.254", "127.0.0.253"], search_base=base,
                 photo_dir=photo_folder(tmp_path, people), connect_timeout=3)
    assert result["failed"] and "127.0.0.254" in result["msg"] and "127.0.0.253" in result["msg"]
    assert dcread.read_photo(scratch_people.person_dn(base, "sd-0")) is None


@pytest.fixture(scope="module")
def foreign_ca(tmp_path_factory):
    """A CA that did not issue the DC's certificate."""
    folder = tmp_path_factory.mktemp("foreign-ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=not the test CA",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "ca.pem"), "-days", "2"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return str(folder / "ca.pem")


@pytest.mark.parametrize("tls_mode", ["ldaps", "start_tls"])
def test_tls_handshake_with_a_wrong_certificate_fails_closed(dc, ou, tmp_path, capsys, foreign_ca, tls_mode):
    """A certificate the CA does not vouch for stops the run before any bind (the password is never sent)
    and before any write; the next server in the list is NOT tried in its place."""
    people = [dict(sam="tls-%s" % tls_mode)]
    base = ou(people)
    result = run(dc, capsys, ca_cert=foreign_ca, tls_mode=tls_mode, server=[dc["server"], dc["server"]],
                 search_base=base, photo_dir=photo_folder(tmp_path, people))
    assert result["failed"]
    assert "TLS" in result["msg"] or "StartTLS" in result["msg"]
    assert "certificate" in result["msg"].lower()
    assert dcread.read_photo(scratch_people.person_dn(base, people[0]["sam"])) is None


def test_validate_certs_false_works_but_warns(dc, ou, tmp_path, capsys):
    people = [dict(sam="nv-0")]
    base = ou(people)
    result = run(dc, capsys, ca_cert=None, validate_certs=False, search_base=base,
                 photo_dir=photo_folder(tmp_path, people))
    assert not result.get("failed"), result.get("msg")
    assert result["written"] == 1
    assert "validate_certs=false" in json.dumps(result.get("warnings")), result.get("warnings")


# --- backups ------------------------------------------------------------------------------------------------

@pytest.fixture
def mount_tmpfs(tmp_path):
    """mount(options) -> a fresh tmpfs folder mounted with those options (unmounted afterwards)."""
    mounted = []

    def mount(options):
        point = tmp_path / ("mnt%d" % len(mounted))
        point.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "photosync-test", str(point)], check=True)
        mounted.append(str(point))
        return str(point)

    yield mount
    for point in mounted:
        subprocess.run(["umount", point], check=False)


def test_read_only_backup_dir_writes_nothing_to_the_directory(dc, ou, tmp_path, capsys, mount_tmpfs):
    """backup_dir on a read-only file system: every person whose old photo could not be saved keeps it."""
    old = dict(("ro-%d" % i, jpeg((250, 200, 10), (80, 80), mark=i + 1)) for i in range(4))
    people = [dict(sam=sam, photo=data) for sam, data in sorted(old.items())]
    base = ou(people + [dict(sam="ro-new")])
    backup_dir = mount_tmpfs("ro,size=1m")
    result = run(dc, capsys, search_base=base, photo_dir=photo_folder(tmp_path, people + [dict(sam="ro-new")]),
                 backup_dir=backup_dir, fail_on_error=False)
    assert result["counts"]["error"] == 4
    by_user = dict((p["user"], p) for p in result["not_in_sync"])
    for sam, data in old.items():
        assert by_user[sam]["status"] == "error" and not by_user[sam]["written"]
        assert "backup" in by_user[sam]["error"].lower()
        assert dcread.read_photo(scratch_people.person_dn(base, sam)) == data
    # Nobody had a photo to lose: written without a backup.
    assert by_user["ro-new"]["written"] and result["written"] == 1
    assert os.listdir(backup_dir) == []


def test_full_backup_dir_writes_only_the_people_whose_backup_was_saved(dc, ou, tmp_path, capsys, mount_tmpfs):
    """backup_dir on a tiny file system that fills up: those backed up are written, the rest keep their photo."""
    old = dict(("full-%02d" % i, jpeg((250, 100 + i, 10), (200, 200), mark=i + 1)) for i in range(12))
    people = [dict(sam=sam, photo=data) for sam, data in sorted(old.items())]
    base = ou(people)
    backup_dir = mount_tmpfs("size=40k")
    result = run(dc, capsys, search_base=base, photo_dir=photo_folder(tmp_path, people), backup_dir=backup_dir,
                 fail_on_error=False, max_listed=100)
    backups = backups_by_user(backup_dir)
    by_user = dict((p["user"], p) for p in result["not_in_sync"])
    written = set(sam for sam, p in by_user.items() if p["written"])
    assert 0 < len(written) < len(old), "the tmpfs should hold some backups, not all: %s" % sorted(written)
    for sam, data in old.items():
        now = dcread.read_photo(scratch_people.person_dn(base, sam))
        if sam in written:
            assert backups[sam] == [data] and now != data
        else:
            assert now == data, "%s was changed although its backup failed" % sam
            assert by_user[sam]["status"] == "error" and "backup" in by_user[sam]["error"].lower()


# --- the normalization cache ------------------------------------------------------------------------------

def test_corrupted_or_foreign_cache_dir_is_ignored_and_never_trusted_into_a_wrong_write(dc, ou, tmp_path, capsys):
    """Every cache entry is damaged in a different way (truncated, bit-flipped, replaced by another person's
    valid entry, replaced by foreign files); the next run writes each person's own photo, byte for byte."""
    people = [dict(sam="cc-%d" % i) for i in range(6)]
    base = ou(people)
    folder = photo_folder(tmp_path, people)
    cache_dir = tmp_path / "cache"
    first = run(dc, capsys, search_base=base, photo_dir=folder, cache_dir=str(cache_dir))
    assert first["written"] == 6
    entries = sorted(str(p) for p in cache_dir.rglob("*") if p.is_file())
    assert len(entries) >= 6, entries
    blobs = [open(p, "rb").read() for p in entries]
    for i, path in enumerate(entries):
        with open(path, "wb") as handle:
            kind = i % 4
            if kind == 0:      # another person's complete, valid entry under this person's name
                handle.write(blobs[(i + 1) % len(blobs)])
            elif kind == 1:    # truncated
                handle.write(blobs[i][:len(blobs[i]) // 2])
            elif kind == 2:    # one bit flipped in the photo
                damaged = bytearray(blobs[i])
                damaged[-20] ^= 0x01
                handle.write(bytes(damaged))
            else:              # something else entirely
                handle.write(b"<html>not a cache entry</html>")
    (cache_dir / "README.txt").write_text("a foreign file in the cache folder")
    (cache_dir / "zz").mkdir(exist_ok=True)
    (cache_dir / "zz" / "junk.jpg").write_bytes(b"\xff\xd8junk")
    for person in people:  # everybody needs writing again
        dcread.clear_photo_raw(scratch_people.person_dn(base, person["sam"]))
    second = run(dc, capsys, search_base=base, photo_dir=folder, cache_dir=str(cache_dir))
    assert not second.get("failed"), second.get("msg")
    assert second["written"] == 6
    for person in people:
        assert dcread.read_photo(scratch_people.person_dn(base, person["sam"])) == \
            normalized(os.path.join(folder, person["sam"] + ".jpg")), "%s got a wrong photo" % person["sam"]
    third = run(dc, capsys, search_base=base, photo_dir=folder, cache_dir=str(cache_dir))
    assert not third["changed"] and third["counts"]["in_sync"] == 6
