# -*- coding: utf-8 -*-
"""Fixtures for tests that run against the throwaway Samba AD DC (tests/support/samba-dc).

Every test collected below tests/integration is marked ``integration``.  When the DC is not
running the tests FAIL (never skip): start it with ``tests/support/samba-dc start``.

Fixtures
- ``dc``            (session) the facts of the seeded DC: dc.json, see docs/development.md
- ``ldap_connect``  factory for bound plain-ldap3 connections (LDAPS, certificates validated)
- ``scratch_user``  factory creating a throw-away user (deleted after the test), so tests that
                    write do not disturb the seeded users other tests rely on
"""

import os
import socket
import ssl
import uuid

import pytest

import dcread

DC_NOT_RUNNING = "the test DC is not running: run tests/support/samba-dc start"
_HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.path).startswith(_HERE + os.sep):
            item.add_marker(pytest.mark.integration)


def _tls_handshake(info):
    """Complete a TLS handshake with the LDAPS port, validating against the test CA."""
    ctx = ssl.create_default_context(cafile=info["ca_cert"])
    with socket.create_connection((info["server"], info["ldaps_port"]), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname=info["server"]):
            pass


@pytest.fixture(scope="session")
def dc():
    try:
        info = dcread.load_dc_info()
    except dcread.DcReadError as exc:
        pytest.fail("%s (%s)" % (DC_NOT_RUNNING, exc), pytrace=False)
    try:
        _tls_handshake(info)
    except (OSError, ssl.SSLError) as exc:
        pytest.fail("%s (LDAPS %s:%s: %s)" % (DC_NOT_RUNNING, info["server"], info["ldaps_port"], exc),
                    pytrace=False)
    return info


@pytest.fixture
def ldap_connect(dc):
    """connect(user=None, password=None, host=None) -> bound ldap3 Connection over LDAPS."""
    import ldap3

    opened = []

    def connect(user=None, password=None, host=None):
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=dc["ca_cert"])
        server = ldap3.Server(host or dc["server"], port=dc["ldaps_port"], use_ssl=True, tls=tls,
                              connect_timeout=5)
        conn = ldap3.Connection(server, user=user or dc["admin"]["username"],
                                password=password if password is not None else dc["admin"]["password"],
                                auto_bind=True, raise_exceptions=True, receive_timeout=15)
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        try:
            conn.unbind()
        except Exception:  # already closed by the test
            pass


@pytest.fixture
def scratch_user(dc, ldap_connect):
    """create(ou='staff', photo=None, password=None) -> {dn, sAMAccountName, upn, mail}; deleted afterwards.

    ``ou`` is a key of dc['ous'] (staff is the OU the delegate may write in) or a DN.
    """
    import ldap3

    admin = ldap_connect()
    created = []

    def create(ou="staff", photo=None, password=None):
        sam = "tmp-%s" % uuid.uuid4().hex[:12]
        parent = dc["ous"].get(ou, ou)
        dn = "CN=%s,%s" % (sam, parent)
        attrs = {"sAMAccountName": sam, "sn": sam, "displayName": "scratch %s" % sam,
                 "userPrincipalName": "%s@%s" % (sam, dc["dns_domain"]), "mail": "%s@%s" % (sam, dc["dns_domain"])}
        if photo is not None:
            attrs["thumbnailPhoto"] = photo
        if password is not None:
            attrs["unicodePwd"] = ('"%s"' % password).encode("utf-16-le")
            attrs["userAccountControl"] = "512"
        admin.add(dn, ["top", "person", "organizationalPerson", "user"], attrs)
        created.append(dn)
        return {"dn": dn, "sAMAccountName": sam, "upn": attrs["userPrincipalName"], "mail": attrs["mail"]}

    yield create
    for dn in created:
        try:
            admin.delete(dn)
        except ldap3.core.exceptions.LDAPNoSuchObjectResult:
            pass


@pytest.fixture
def ou(dc):
    """make(people, name=None, parent=None) -> DN of a new OU holding ``people``
    (tests/support/scratch_people.py); every OU made is deleted afterwards."""
    import scratch_people

    created = []

    def make(people, name=None, parent=None):
        dn = scratch_people.create_ou(dc, name, parent)
        created.append(dn)
        scratch_people.add_people(dc, dn, people)
        return dn

    yield make
    for dn in reversed(created):
        scratch_people.delete_ou(dc, dn)
