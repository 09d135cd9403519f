# -*- coding: utf-8 -*-
"""The test DC itself: TLS with validation, seeded data, delegation, and the independent reader.

Plain ldap3 and OpenLDAP tools only; nothing from the collection.
"""

import hashlib
import io
import json
import os
import ssl
import subprocess
import sys

import ldap3
import pytest
from ldap3 import MODIFY_REPLACE
from ldap3.core.exceptions import (LDAPInsufficientAccessRightsResult, LDAPInvalidCredentialsResult,
                                   LDAPSocketOpenError, LDAPStrongerAuthRequiredResult)
from ldap3.utils.conv import escape_filter_chars
from PIL import Image

import dcread

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _jpeg(seed, size=(96, 96), noise=False):
    img = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    if noise:  # incompressible content -> a larger value that ldapsearch must wrap over many lines
        img = Image.frombytes("RGB", size, hashlib.sha256(str(seed).encode()).digest() * (size[0] * size[1] * 3 // 32 + 1))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _ldap3_photo(conn, dn):
    conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["thumbnailPhoto"])
    values = conn.entries[0].entry_raw_attributes.get("thumbnailPhoto") or []
    return values[0] if values else None


# ---------------------------------------------------------------- TLS and binds
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_ldaps_bind_validates_certificate_against_test_ca(dc, ldap_connect, host):
    conn = ldap_connect(host=host)
    assert conn.bound
    assert conn.server.ssl
    conn.search(dc["base_dn"], "(objectClass=domain)", search_scope=ldap3.BASE, attributes=["1.1"])
    assert [e.entry_dn.lower() for e in conn.entries] == [dc["base_dn"].lower()]


def test_ldaps_without_the_test_ca_is_rejected(dc):
    # validation really is on: the system trust store does not know the test CA
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED)
    server = ldap3.Server(dc["server"], port=dc["ldaps_port"], use_ssl=True, tls=tls, connect_timeout=5)
    conn = ldap3.Connection(server, dc["admin"]["username"], dc["admin"]["password"], raise_exceptions=True)
    with pytest.raises(LDAPSocketOpenError):
        conn.open()


def test_start_tls_bind_and_plaintext_refused(dc):
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=dc["ca_cert"])
    server = ldap3.Server(dc["server"], port=dc["ldap_port"], tls=tls, connect_timeout=5, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, dc["admin"]["username"], dc["admin"]["password"], raise_exceptions=True)
    conn.open()
    assert conn.start_tls()
    assert conn.bind()
    conn.unbind()
    plain = ldap3.Connection(server, dc["admin"]["username"], dc["admin"]["password"], raise_exceptions=True)
    with pytest.raises(LDAPStrongerAuthRequiredResult):
        plain.bind()


def test_seeded_passwords_and_disabled_user(dc, ldap_connect):
    users = dc["users"]
    assert ldap_connect(users["alice"]["upn"], dc["user_password"]).bound
    assert ldap_connect(dc["delegate"]["netbios_username"], dc["delegate"]["password"]).bound
    assert users["ivan"]["disabled"] is True
    with pytest.raises(LDAPInvalidCredentialsResult) as info:
        ldap_connect(users["ivan"]["upn"], dc["user_password"])
    assert "data 533" in str(info.value)  # right password, account disabled
    with pytest.raises(LDAPInvalidCredentialsResult) as info:
        ldap_connect(users["alice"]["upn"], "wrong-password")
    assert "data 52e" in str(info.value)


# ---------------------------------------------------------------- seeded data
def test_seeded_users_match_dc_json(dc, ldap_connect):
    conn = ldap_connect()
    users = dc["users"]
    assert len(users) >= 15
    for sam, user in users.items():
        conn.search(dc["base_dn"], "(sAMAccountName=%s)" % escape_filter_chars(sam),
                    attributes=["objectGUID", "objectSid", "userPrincipalName", "mail", "userAccountControl",
                                "thumbnailPhoto", "cn"])
        assert len(conn.entries) == 1, sam
        entry = conn.entries[0]
        assert entry.entry_dn == user["dn"]
        assert entry.objectGUID.value.strip("{}").lower() == user["objectGUID"]
        assert entry.objectSid.value == user["objectSid"]
        assert (entry.userPrincipalName.value or None) == user["upn"]
        assert (entry.mail.value or None) == user["mail"]
        assert entry.cn.value == user["cn"]
        assert bool(entry.userAccountControl.value & 2) == user["disabled"]
        photo = (entry.entry_raw_attributes.get("thumbnailPhoto") or [None])[0]
        assert (photo is not None) == user["has_photo"], sam
        if photo is not None:
            assert hashlib.sha256(photo).hexdigest() == user["photo_sha256"], sam
    photos = [u["photo_sha256"] for u in users.values() if u["has_photo"]]
    assert len(set(photos)) == len(photos), "seeded photos must differ per user"
    assert users["notanimage"]["has_photo"] and users["notanimage"]["photo_format"] is None
    assert users["alice"]["photo_format"] == "JPEG"


def test_tricky_names_exist_and_need_escaping(dc, ldap_connect):
    conn = ldap_connect()
    users = dc["users"]
    assert users["o'brien"]["cn"] == "Conor O'Brien"
    assert users["(paren)"]["cn"] == "(paren)"
    assert users["astarb"]["cn"] == "a*b"
    assert users[u"zo\u00eb.m\u00fcller"]["cn"] == u"Zo\u00eb M\u00fcller"
    assert users["jsmith"]["dn"].startswith("CN=Smith\\, Jane,")

    def count(flt):
        conn.search(dc["base_dn"], flt, attributes=["1.1"])
        return len(conn.entries)

    # the escaped filter finds exactly one; the unescaped '*' also matches the decoy axxb
    assert count("(mail=%s)" % escape_filter_chars("a*b@example.test")) == 1
    assert count("(mail=a*b@example.test)") == 2
    assert count("(sAMAccountName=%s)" % escape_filter_chars("(paren)")) == 1
    assert count("(cn=%s)" % escape_filter_chars(u"Zo\u00eb M\u00fcller")) == 1
    assert count("(userPrincipalName=%s)" % escape_filter_chars("o'brien@example.test")) == 1
    # ambiguous-match material: two users share one mail
    assert count("(mail=%s)" % dc["shared_mail"]) == 2
    assert sorted(s for s, u in users.items() if u["mail"] == dc["shared_mail"]) == ["frank", "grace"]


# ---------------------------------------------------------------- delegation
def test_delegate_writes_photo_in_staff_only(dc, ldap_connect, scratch_user):
    inside = scratch_user("staff")
    outside_people = scratch_user("people")
    outside_contractors = scratch_user("contractors")
    delegate = ldap_connect(dc["delegate"]["username"], dc["delegate"]["password"])
    admin = ldap_connect()
    photo = _jpeg(1)

    assert delegate.modify(inside["dn"], {"thumbnailPhoto": [(MODIFY_REPLACE, [photo])]})
    assert _ldap3_photo(admin, inside["dn"]) == photo

    for target in (outside_people, outside_contractors):
        with pytest.raises(LDAPInsufficientAccessRightsResult) as info:
            delegate.modify(target["dn"], {"thumbnailPhoto": [(MODIFY_REPLACE, [photo])]})
        assert info.value.result == 50
        assert "no write property access" in info.value.message
        assert _ldap3_photo(admin, target["dn"]) is None

    # only thumbnailPhoto was delegated, not other attributes
    with pytest.raises(LDAPInsufficientAccessRightsResult):
        delegate.modify(inside["dn"], {"description": [(MODIFY_REPLACE, ["nope"])]})


def test_delegate_cannot_write_seeded_user_outside_staff(dc, ldap_connect):
    delegate = ldap_connect(dc["delegate"]["username"], dc["delegate"]["password"])
    dave = dc["users"]["dave"]
    assert dave["in_delegated_ou"] is False
    with pytest.raises(LDAPInsufficientAccessRightsResult):
        delegate.modify(dave["dn"], {"thumbnailPhoto": [(MODIFY_REPLACE, [b"x"])]})
    assert hashlib.sha256(dcread.read_photo(dave["dn"])).hexdigest() == dave["photo_sha256"]


# ---------------------------------------------------------------- the independent reader
def test_dcread_reads_back_exactly_what_ldap3_wrote(dc, ldap_connect, scratch_user):
    user = scratch_user("staff")
    admin = ldap_connect()
    assert dcread.read_photo(user["dn"]) is None
    assert dcread.read_values(user["dn"], "thumbnailPhoto") == []

    # a larger, incompressible value (LDIF continuation lines) and a value with awkward bytes
    for value in (_jpeg(2, size=(160, 160), noise=True), b" :<\x00\n\xff leading space and NUL", _jpeg(3)):
        admin.modify(user["dn"], {"thumbnailPhoto": [(MODIFY_REPLACE, [value])]})
        assert dcread.read_photo(user["dn"]) == value == _ldap3_photo(admin, user["dn"])
    assert len(_jpeg(2, size=(160, 160), noise=True)) > 5000  # ~115 folded LDIF lines

    # text attributes come back as UTF-8 bytes
    assert dcread.read_values(user["dn"], "sAMAccountName") == [user["sAMAccountName"].encode()]
    zoe = dc["users"][u"zo\u00eb.m\u00fcller"]
    assert dcread.read_values(zoe["dn"], "cn") == [u"Zo\u00eb M\u00fcller".encode("utf-8")]


def test_dcread_raw_write_and_clear(dc, ldap_connect, scratch_user):
    user = scratch_user("people")
    admin = ldap_connect()
    value = _jpeg(4, size=(120, 90), noise=True)
    dcread.write_photo_raw(user["dn"], value)
    assert _ldap3_photo(admin, user["dn"]) == value
    dcread.clear_photo_raw(user["dn"])
    assert _ldap3_photo(admin, user["dn"]) is None
    dcread.clear_photo_raw(user["dn"])  # clearing twice is fine

    # as the delegate, outside its OU: the LDAP result code comes through
    with pytest.raises(dcread.DcReadError) as info:
        dcread.write_photo_raw(user["dn"], value, bind=(dc["delegate"]["username"], dc["delegate"]["password"]))
    assert info.value.returncode == 50


def test_dcread_missing_entry_raises(dc):
    with pytest.raises(dcread.DcReadError) as info:
        dcread.read_photo("CN=nobody-here,%s" % dc["ous"]["people"])
    assert info.value.returncode == 32


def test_dcread_cli(dc):
    alice = dc["users"]["alice"]
    proc = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "tests", "support", "dcread.py"), alice["dn"]],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    out = json.loads(proc.stdout)
    assert out == {"dn": alice["dn"], "attribute": "thumbnailPhoto", "present": True, "values": 1,
                   "sha256": alice["photo_sha256"], "bytes": alice["photo_bytes"]}


def test_parse_ldif_handles_folding_and_base64():
    text = ("dn:: Q049Wm/DqyBNw7xsbGVyLE9VPVBlb3BsZQ==\n"
            "cn: Zo\u00eb\n"
            "thumbnailPhoto:: AAEC\n"
            " AwQF\n"
            "description: a long\n"
            "  value\n"
            "\n"
            "dn: CN=b\n"
            "mail: b@x\n")
    entries = dcread.parse_ldif(text)
    assert entries == [
        (u"CN=Zo\u00eb M\u00fcller,OU=People", {"cn": [u"Zo\u00eb".encode()],
                                                "thumbnailphoto": [b"\x00\x01\x02\x03\x04\x05"],
                                                "description": [b"a long value"]}),
        ("CN=b", {"mail": [b"b@x"]}),
    ]
