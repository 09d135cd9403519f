"""Connections that break, and URIs that must agree with tls_mode, against the real Samba DC (S1, 2).

The tests of dropped connections stop the test DC for real: they freeze it (SIGSTOP) so a
request is in flight, kill it (SIGKILL) and start it again with tests/support/samba-dc in the
fixture (about 3 s).  While one of them runs the DC is gone, so do not run them in parallel
with other integration tests against the same DC (tests/run-all runs the integration tests
one at a time).  Afterwards the directory is read with dcread (ldapsearch): nothing is lost.
"""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import dcread
from ansible_collections.photosync.ad.plugins.module_utils import _errors, _ldap

SAMBA_DC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support", "samba-dc")
ORIGINAL = b"original-photo-before-the-outage"
NEW = b"new-photo-written-during-the-outage"


def settings(dc, **overrides):
    options = dict(server=[dc["server"]], ca_cert=dc["ca_cert"], username=dc["admin"]["username"],
                   password=dc["admin"]["password"])
    options.update(overrides)
    return _ldap.ConnectionSettings(**options)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


class DcProcess(object):
    """The test DC's samba process: freeze, kill, and start again."""

    def __init__(self, dc):
        self.dc = dc
        self.pid = self._read_pid()
        self.timers = []

    def _read_pid(self):
        with open(os.path.join(self.dc["dir"], "run", "samba.pid")) as handle:
            pid = int(handle.read().strip())
        exe = os.path.basename(os.readlink("/proc/%d/exe" % pid))
        assert exe == "samba", "pid %d is %s, not the test DC's samba" % (pid, exe)
        return pid

    def freeze(self):
        os.kill(self.pid, signal.SIGSTOP)

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        deadline = time.time() + 10
        while _alive(self.pid) and time.time() < deadline:
            time.sleep(0.05)
        assert not _alive(self.pid)

    def kill_later(self, seconds):
        """Kill the (frozen) DC from another thread while this one waits for an answer."""
        timer = threading.Timer(seconds, self.kill)
        timer.start()
        self.timers.append(timer)

    def restore(self):
        """Make sure the DC runs again (idempotent)."""
        for timer in self.timers:
            timer.join()
        self.timers = []
        if _alive(self.pid):
            os.kill(self.pid, signal.SIGCONT)
            return
        env = dict(os.environ, PHOTOSYNC_DC_DIR=self.dc["dir"], PHOTOSYNC_DC_ADDR=self.dc["server"],
                   PYTHON=sys.executable)
        started = subprocess.run([SAMBA_DC, "start"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 universal_newlines=True, timeout=180, check=False)
        assert started.returncode == 0, started.stdout
        self.pid = self._read_pid()


@pytest.fixture
def dc_process(dc):
    process = DcProcess(dc)
    try:
        yield process
    finally:
        process.restore()


@pytest.fixture
def victim(dc, ldap_connect, dc_process):
    """A user in OU=Staff with the photo ORIGINAL; removed afterwards over a fresh connection."""
    import ldap3
    import uuid
    sam = "lost-%s" % uuid.uuid4().hex[:10]
    dn = "CN=%s,%s" % (sam, dc["ous"]["staff"])
    ldap_connect().add(dn, ["top", "person", "organizationalPerson", "user"],
                       {"sAMAccountName": sam, "sn": sam, "displayName": "outage test %s" % sam,
                        "thumbnailPhoto": ORIGINAL})
    yield dict(dn=dn, sAMAccountName=sam)
    dc_process.restore()
    try:
        ldap_connect().delete(dn)
    except ldap3.core.exceptions.LDAPNoSuchObjectResult:
        pass


def _assert_names_the_situation(exc, dc, action, who):
    text = str(exc)
    assert dc["server"] in text, text
    assert action in text, text
    assert who in text, text
    for misleading in ("Kerberos", "NTLM", "ntlm", "Traceback"):
        assert misleading not in text, text


# ------------------------------------------------------------------ S1: URIs that work

@pytest.mark.parametrize("uri,tls_mode,port", [
    ("ldap://{server}:389", "start_tls", 389),
    ("ldap://{server}", "start_tls", 389),
    ("ldaps://{server}:636", "ldaps", 636),
    ("ldaps://{server}", "ldaps", 636),
])
def test_uri_agreeing_with_tls_mode_binds(dc, uri, tls_mode, port):
    """S1: an ldap:// URI with StartTLS and an ldaps:// URI with LDAPS still bind (certificates validated)."""
    with _ldap.Directory(settings(dc, server=[uri.format(server=dc["server"])], tls_mode=tls_mode)) as directory:
        assert directory.server_used == "%s:%d" % (dc["server"], port)
        assert directory.resolve("alice").dn == dc["users"]["alice"]["dn"]


def test_ldaps_uri_needs_no_tls_mode(dc):
    """S1: ``ldaps://`` implies LDAPS; the default tls_mode agrees."""
    with _ldap.Directory(settings(dc, server=["ldaps://%s" % dc["server"]])) as directory:
        assert directory.server_used.endswith(":636")


def test_ldap_uri_with_default_tls_mode_is_refused(dc):
    """S1: failed before the fix - ``ldap://`` with the default tls_mode did a plaintext simple bind
    (Samba refused it with strongerAuthRequired only after the password had crossed the wire)."""
    with pytest.raises(_errors.ConfigurationError, match="start_tls"):
        _ldap.Directory(settings(dc, server=["ldap://%s:389" % dc["server"]])).connect()


# ------------------------------------------------------------------ 2: dropped connections

def test_dc_killed_between_bind_and_write(dc, dc_process, victim):
    """2: failed before the fix - the DC dying between the bind and the write surfaced as ldap3's raw
    LDAPSocketReceiveError / LDAPSessionTerminatedByServerError (a MODULE FAILURE with a traceback),
    naming no server, operation or user."""
    with _ldap.Directory(settings(dc)) as directory:
        user = directory.resolve(victim["sAMAccountName"])
        current = directory.read_values(user.dn, "thumbnailPhoto")
        assert current == [ORIGINAL]
        dc_process.kill()
        with pytest.raises(_errors.ConnectionLost) as info:
            directory.swap_photo(user.dn, "thumbnailPhoto", current, NEW, user=user.sam_account_name)
    _assert_names_the_situation(info.value, dc, "writing thumbnailPhoto of %s" % user.dn, user.sam_account_name)
    assert "run the task again" in str(info.value).lower()
    dc_process.restore()
    assert dcread.read_photo(victim["dn"], dc_info=dc) == ORIGINAL  # nothing lost, nothing half-written
    with _ldap.Directory(settings(dc)) as directory:  # and the next run does the write
        directory.swap_photo(victim["dn"], "thumbnailPhoto", [ORIGINAL], NEW)
    assert dcread.read_photo(victim["dn"], dc_info=dc) == NEW


def test_dc_killed_during_a_write(dc, dc_process, victim):
    """2: failed before the fix - a DC killed while a write was in flight gave 'session terminated by
    server' with no user, DN or hint."""
    with _ldap.Directory(settings(dc)) as directory:
        current = directory.read_values(victim["dn"], "thumbnailPhoto")
        dc_process.freeze()  # the modify is sent, and waits for an answer that never comes
        dc_process.kill_later(0.5)
        with pytest.raises(_errors.ConnectionLost) as info:
            directory.swap_photo(victim["dn"], "thumbnailPhoto", current, NEW)
    _assert_names_the_situation(info.value, dc, "writing thumbnailPhoto", victim["dn"])
    dc_process.restore()
    assert dcread.read_photo(victim["dn"], dc_info=dc) == ORIGINAL


def test_dc_killed_during_a_bind(dc, dc_process):
    """2: failed before the fix - a DC killed during the bind was reported as a failed bind with a hint
    about NTLM binds."""

    class KilledDuringBind(_ldap.Directory):
        def _bind(self):
            dc_process.freeze()
            dc_process.kill_later(0.5)
            return super(KilledDuringBind, self)._bind()

    with pytest.raises(_errors.ConnectionLost) as info:
        KilledDuringBind(settings(dc)).connect()
    _assert_names_the_situation(info.value, dc, "bind", dc["admin"]["username"])


def test_dc_killed_during_a_search(dc, dc_process):
    """2: failed before the fix - a search on a dropped connection raised ldap3's exception unmapped."""
    with _ldap.Directory(settings(dc)) as directory:
        directory.search_base()
        dc_process.freeze()
        dc_process.kill_later(0.5)
        with pytest.raises(_errors.ConnectionLost) as info:
            directory.resolve("alice")
    _assert_names_the_situation(info.value, dc, "search", "alice")


def test_dc_that_stops_answering_is_a_timeout(dc, dc_process):
    """2: failed before the fix - a receive timeout surfaced as a raw LDAPSocketReceiveError."""
    with _ldap.Directory(settings(dc, timeout=2)) as directory:
        directory.search_base()
        dc_process.freeze()
        try:
            with pytest.raises(_errors.ConnectionLost) as info:
                directory.read_values(dc["users"]["bob"]["dn"], "thumbnailPhoto")
        finally:
            os.kill(dc_process.pid, signal.SIGCONT)
    _assert_names_the_situation(info.value, dc, "reading thumbnailPhoto", dc["users"]["bob"]["dn"])
    assert "did not answer within 2 s" in str(info.value)


def test_dc_killed_during_a_kerberos_bind(dc, dc_process, tmp_path, monkeypatch):
    """2: failed before the fix - a DC killed during a Kerberos bind was reported as an authentication
    failure with a hint about the DC's SASL GSSAPI support."""
    monkeypatch.setenv("KRB5_CONFIG", dc["krb5_conf"])
    monkeypatch.setenv("KRB5CCNAME", "FILE:%s" % (tmp_path / "krb5cc"))
    kinit = subprocess.run(["kinit", "Administrator@%s" % dc["realm"]], input=dc["admin"]["password"] + "\n",
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                           timeout=30, check=False)
    assert kinit.returncode == 0, kinit.stdout
    options = dict(auth_protocol="kerberos", password=None, kerberos_hostname_override=dc["ldap_service_host"])
    with _ldap.Directory(settings(dc, **options)) as directory:  # puts the LDAP service ticket in the cache,
        directory.search_base()                                 # so the next bind needs no KDC (same samba)

    class KilledDuringKerberosBind(_ldap.Directory):
        def _kerberos_credentials(self):
            creds = super(KilledDuringKerberosBind, self)._kerberos_credentials()
            dc_process.freeze()  # the SASL bind is sent and never answered
            dc_process.kill_later(0.5)
            return creds

    with pytest.raises(_errors.ConnectionLost) as info:
        KilledDuringKerberosBind(settings(dc, **options)).connect()
    text = str(info.value)
    assert dc["server"] in text and "Kerberos bind as Administrator@EXAMPLE.TEST" in text, text
    assert "GSSAPI" not in text and "supportedSASLMechanisms" not in text and "NTLM" not in text, text
