"""What the LDAP layer sends before it knows it may: checked with a listener on loopback.

The listener is a plain TCP socket that records every byte it receives and answers
nothing, so a test can assert what reached the network (a password in a bind request)
and what never did.  The positive cases (StartTLS / LDAPS URIs really work) run against
the Samba DC in tests/integration/test_ldap_failures.py.
"""

import os
import socket
import threading
import time

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _ldap

PASSWORD = "Canary-Pa55word-%s" % os.getpid()


class Listener(object):
    """Accepts connections on 127.0.0.1:<free port>, records what arrives, never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, dummy = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            conn.settimeout(0.2)
            deadline = time.time() + 3
            while not self._stop and time.time() < deadline:
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not data:
                    break
                self.received.extend(data)
            conn.close()

    def close(self):
        self._stop = True
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener():
    srv = Listener()
    yield srv
    srv.close()


def _settings(server, **overrides):
    options = dict(server=[server], username="svc@example.test", password=PASSWORD, connect_timeout=2, timeout=2)
    options.update(overrides)
    return _ldap.ConnectionSettings(**options)


def _connect(settings):
    directory = _ldap.Directory(settings)
    try:
        directory.connect()
    finally:
        directory.close()


def test_ldap_uri_with_default_tls_mode_sends_no_password(listener):
    """S1: failed before the fix - ``server: ldap://host:port`` with the default tls_mode=ldaps
    connected without TLS and sent the simple bind (password in clear) to the listener."""
    with pytest.raises(_errors.ConfigurationError) as info:
        _connect(_settings("ldap://127.0.0.1:%d" % listener.port))
    text = str(info.value)
    assert "ldap://" in text and "start_tls" in text
    time.sleep(0.3)  # anything in flight would have arrived by now
    assert PASSWORD.encode() not in bytes(listener.received)
    assert listener.connections == 0  # refused before connecting at all


def test_ldap_uri_with_start_tls_sends_starttls_first_never_the_password(listener):
    """S1: ``ldap://`` with tls_mode=start_tls asks for StartTLS before anything else; a server that
    does not answer it gets no bind request."""
    with pytest.raises(_errors.DirectoryError):
        _connect(_settings("ldap://127.0.0.1:%d" % listener.port, tls_mode="start_tls"))
    time.sleep(0.3)
    received = bytes(listener.received)
    assert b"1.3.6.1.4.1.1466.20037" in received  # the StartTLS extended request
    assert PASSWORD.encode() not in received


@pytest.mark.parametrize("server,tls_mode", [
    ("ldaps://127.0.0.1:{port}", "start_tls"),
    ("ldaps://127.0.0.1:{port}", "none"),
    ("ldap://127.0.0.1:{port}", "ldaps"),
])
def test_uri_scheme_and_tls_mode_must_agree(listener, server, tls_mode):
    """S1: failed before the fix - a URI scheme that contradicts tls_mode was accepted, and the
    scheme silently won (ldap:// meant no TLS at all)."""
    with pytest.raises(_errors.ConfigurationError, match="tls_mode"):
        _connect(_settings(server.format(port=listener.port), tls_mode=tls_mode, allow_plaintext=True))
    assert listener.connections == 0


def test_ldap_uri_plaintext_needs_the_explicit_opt_in(listener):
    """S1: ``ldap://`` with tls_mode=none is the plaintext case and needs allow_plaintext."""
    with pytest.raises(_errors.ConfigurationError, match="clear text"):
        _connect(_settings("ldap://127.0.0.1:%d" % listener.port, tls_mode="none"))
    assert listener.connections == 0


def test_ca_cert_that_does_not_exist_names_the_file():
    """10: failed before the fix - a missing ca_cert crashed with ldap3's 'invalid CA public key file',
    naming neither the file nor what to do."""
    missing = "/nonexistent/photosync/ca-%d.pem" % os.getpid()
    with pytest.raises(_errors.ConfigurationError) as info:
        _connect(_settings("127.0.0.1:9", ca_cert=missing))
    text = str(info.value)
    assert missing in text and "does not exist" in text
    assert "delegate_to" in text or "host that runs the module" in text


@pytest.mark.parametrize("content", [b"", b"this is not a certificate\n", b"\x30\x82\x01\x0a\x02\x82\x01\x01\x00"])
def test_ca_cert_that_is_not_pem_is_not_reported_as_unreachable(listener, tmp_path, content):
    """10: failed before the fix - a ca_cert that is not a PEM certificate was reported as
    'no LDAP server answered ... firewalls'."""
    bad = tmp_path / "ca.der"
    bad.write_bytes(content)
    with pytest.raises(_errors.ConfigurationError) as info:
        _connect(_settings("127.0.0.1:%d" % listener.port, ca_cert=str(bad)))
    text = str(info.value)
    assert str(bad) in text and "PEM" in text
    assert "firewall" not in text
    assert listener.connections == 0  # found before any network I/O


def test_server_name_that_does_not_resolve_names_the_host():
    """10: failed before the fix - an unknown DC name was reported as '(invalid server address)'."""
    with pytest.raises(_errors.ServerUnreachable) as info:
        _connect(_settings("dc1.photosync.invalid"))
    text = str(info.value)
    assert "dc1.photosync.invalid" in text and "does not resolve" in text
    assert "invalid server address" not in text
    assert "DNS" in text
