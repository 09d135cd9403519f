"""Pure parts of the LDAP layer: identity classification, filter escaping, SIDs, replication metadata.

Behaviour against a directory is tested in tests/integration against the real Samba DC.
"""

import struct
import uuid

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _ldap


@pytest.mark.parametrize("identity,kind", [
    ("CN=Alice,OU=People,DC=example,DC=test", "dn"),
    ("cn=O'Brien\\, Pat,DC=example,DC=test", "dn"),
    ("0d6c3a8e-6b9d-4a4e-9d8a-2f8f1a0b6c11", "objectGUID"),
    ("{0D6C3A8E-6B9D-4A4E-9D8A-2F8F1A0B6C11}", "objectGUID"),
    ("S-1-5-21-1004336348-1177238915-682003330-1104", "objectSid"),
    ("alice@example.test", "userPrincipalName_or_mail"),
    ("alice", "sAMAccountName"),
    ("EXAMPLE\\alice", "sAMAccountName"),
    ("a*b", "sAMAccountName"),
])
def test_classify_identity(identity, kind):
    assert _ldap.classify_identity(identity) == kind


def test_filter_escapes_every_special_character():
    flt = _ldap.identity_filter("a*b(c)", "sAMAccountName")
    assert "(sAMAccountName=a\\2ab\\28c\\29)" in flt
    flt = _ldap.identity_filter("x\\y*@example.test", "mail")
    assert "(mail=x\\5cy\\2a@example.test)" in flt


def test_domain_prefix_is_dropped_for_sam_account_name():
    assert "(sAMAccountName=alice)" in _ldap.identity_filter("EXAMPLE\\alice")


def test_upn_or_mail_searches_both():
    flt = _ldap.identity_filter("o'brien@example.test")
    assert "(userPrincipalName=o'brien@example.test)" in flt and "(mail=o'brien@example.test)" in flt


def test_guid_filter_uses_little_endian_bytes():
    guid = "0d6c3a8e-6b9d-4a4e-9d8a-2f8f1a0b6c11"
    flt = _ldap.identity_filter(guid)
    expected = "".join("\\%02x" % b for b in uuid.UUID(guid).bytes_le)
    assert "(objectGUID=%s)" % expected in flt


@pytest.mark.parametrize("sid", ["S-1-5-21-1004336348-1177238915-682003330-1104", "S-1-5-32-544", "S-1-1-0"])
def test_sid_round_trip(sid):
    assert _ldap.sid_from_bytes(_ldap.sid_to_bytes(sid)) == sid


def test_bad_explicit_identity_types_are_configuration_errors():
    with pytest.raises(_errors.ConfigurationError):
        _ldap.identity_filter("not-a-guid", "objectGUID")
    with pytest.raises(_errors.ConfigurationError):
        _ldap.identity_filter("S-x", "objectSid")


def _metadata_blob(entries):
    blob = struct.pack("<IIII", 1, 0, len(entries), 0)
    for attid, version, seconds, invocation, orig_usn, local_usn in entries:
        blob += struct.pack("<IIQ16sqq", attid, version, seconds, invocation.bytes_le, orig_usn, local_usn)
    return blob


def test_repl_metadata_parsing():
    inv = uuid.UUID("5b2a7a3e-1111-4222-8333-944455556666")
    # 2026-11-28T12:00:00Z in seconds since 1601-01-01
    seconds = 13411108800
    blob = _metadata_blob([(0x00000000, 1, 1, inv, 10, 10), (0x00160023, 3, seconds, inv, 4711, 4712)])
    parsed = _ldap.parse_repl_property_metadata(blob)
    entry = parsed[0x00160023]
    assert entry["version"] == 3
    assert entry["originating_invocation_id"] == str(inv)
    assert entry["originating_usn"] == 4711 and entry["local_usn"] == 4712
    assert entry["changed"].endswith("Z") and entry["changed"].startswith("20")


@pytest.mark.parametrize("blob", [b"", b"\x01\x00", struct.pack("<IIII", 2, 0, 0, 0), struct.pack("<IIII", 1, 0, 5, 0)])
def test_repl_metadata_garbage_is_empty(blob):
    assert _ldap.parse_repl_property_metadata(blob) == {}


def test_plaintext_simple_bind_refused_before_any_io():
    with pytest.raises(_errors.ConfigurationError) as info:
        _ldap.ConnectionSettings(server=["127.0.0.1"], tls_mode="none", username="u", password="p")
    assert "clear text" in str(info.value)
    # Allowed only when explicitly asked for.
    _ldap.ConnectionSettings(server=["127.0.0.1"], tls_mode="none", username="u", password="p", allow_plaintext=True)


def test_default_ports_follow_tls_mode():
    assert _ldap.ConnectionSettings(server="dc", username="u", password="p").port == 636
    assert _ldap.ConnectionSettings(server="dc", tls_mode="start_tls", username="u", password="p").port == 389


def test_anonymous_bind_refused_before_any_io():
    with pytest.raises(_errors.ConfigurationError, match="anonymous"):
        _ldap.ConnectionSettings(server="dc")


def test_certificate_name_mismatch_names_the_certificate_names():
    reason = ("socket ssl wrapping error: certificate {'subject': ((('commonName', 'dc1'),),), 'subjectAltName': "
              "(('DNS', 'localhost'), ('IP Address', '127.0.0.1'), ('DNS', 'dc1.example.test'))} doesn't match "
              "any name in ['vm']")
    assert _ldap._looks_like_tls_failure(reason)
    assert _ldap._short_tls_reason(reason) == (
        "the certificate is for localhost, 127.0.0.1, dc1.example.test, not for 'vm'")


@pytest.mark.parametrize("text,expected", [
    ("dc1", ("dc1", 636, None)),
    ("dc1:1636", ("dc1", 1636, None)),
    ("[::1]:636", ("::1", 636, None)),
    ("ldap://dc1:389", ("dc1", 389, "ldap")),
    ("ldaps://dc1", ("dc1", 636, "ldaps")),
])
def test_split_host_port(text, expected):
    assert _ldap._split_host_port(text, 636) == expected


class _Answered(object):
    """Only what _raise_bind_failure reads: the result of a refused bind."""

    def __init__(self, result):
        self.result = result


@pytest.mark.parametrize("protocol,kwargs,expected,not_expected", [
    ("certificate", dict(client_cert="/etc/pki/me.pem"), "the client certificate /etc/pki/me.pem", "Kerberos"),
    ("simple", dict(username="svc@example.test", password="p"), "svc@example.test", "Kerberos"),
])
def test_refused_bind_names_who_tried_by_protocol(protocol, kwargs, expected, not_expected):
    directory = _ldap.Directory(_ldap.ConnectionSettings(server="dc", auth_protocol=protocol, **kwargs))
    directory.server_used = "dc:636"
    directory.connection = _Answered({"result": 49, "description": "invalidCredentials",
                                      "message": "80090308: LdapErr: DSID-0C09044E, data 52e, v4563"})
    with pytest.raises(_errors.AuthenticationFailed) as info:
        directory._raise_bind_failure()
    assert expected in str(info.value) and not_expected not in str(info.value)
    assert "code 52e" in str(info.value)
