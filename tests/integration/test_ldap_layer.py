"""The LDAP layer against the real Samba AD DC (certificate validation on), checked with dcread (ldapsearch)."""

import hashlib

import pytest

import dcread
from ansible_collections.photosync.ad.plugins.module_utils import _errors, _ldap


def settings(dc, **overrides):
    options = dict(server=[dc["server"]], ca_cert=dc["ca_cert"], username=dc["admin"]["username"],
                   password=dc["admin"]["password"])
    options.update(overrides)
    return _ldap.ConnectionSettings(**options)


@pytest.fixture
def directory(dc):
    with _ldap.Directory(settings(dc)) as opened:
        yield opened


@pytest.mark.parametrize("mode,port", [("ldaps", 636), ("start_tls", 389)])
def test_binds_with_tls_and_validation(dc, mode, port):
    with _ldap.Directory(settings(dc, tls_mode=mode)) as directory:
        assert directory.server_used == "%s:%d" % (dc["server"], port)
        assert directory.search_base() == dc["base_dn"]


@pytest.mark.parametrize("mode", ["ldaps", "start_tls"])
def test_the_directory_socket_sends_small_requests_at_once(dc, mode):
    """Issue 8 item 12: ldap3 leaves Nagle's algorithm on, and the bind request (a small TLS record right
    behind the handshake) waited for the DC's delayed ACK: 50 ms of every task's bind against Samba,
    5 ms with TCP_NODELAY.  Failed before the fix (the option was 0)."""
    import socket
    with _ldap.Directory(settings(dc, tls_mode=mode)) as directory:
        sock = directory.connection.socket
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert directory.search_base() == dc["base_dn"]  # and the connection still works, over TLS


@pytest.mark.parametrize("username_key", ["username", "netbios_username", "dn"])
def test_bind_name_forms(dc, username_key):
    with _ldap.Directory(settings(dc, username=dc["admin"][username_key])) as directory:
        assert directory.resolve("alice").dn == dc["users"]["alice"]["dn"]


def test_plaintext_refused_before_any_bind(dc):
    # Port 9 has nothing listening: reaching the network would give ServerUnreachable instead.
    with pytest.raises(_errors.ConfigurationError, match="clear text"):
        _ldap.Directory(settings(dc, tls_mode="none", server=["127.0.0.1:9"])).connect()


def test_plaintext_allowed_is_still_refused_by_the_dc(dc):
    with pytest.raises(_errors.StrongerAuthRequired, match="ldaps|start_tls"):
        _ldap.Directory(settings(dc, tls_mode="none", allow_plaintext=True)).connect()


def test_wrong_password_names_the_ad_sub_code(dc):
    with pytest.raises(_errors.AuthenticationFailed, match="password is wrong, code 52e"):
        _ldap.Directory(settings(dc, password="not-the-password")).connect()


def test_disabled_account_is_reported_as_disabled(dc):
    disabled = [u for u in dc["users"].values() if u.get("disabled")][0]
    with pytest.raises(_errors.AuthenticationFailed, match="disabled, code 533"):
        _ldap.Directory(settings(dc, username=disabled["upn"], password=dc["user_password"])).connect()


def test_wrong_ca_is_a_tls_failure_with_a_hint(dc, tmp_path):
    other_ca = tmp_path / "other-ca.pem"
    # Any valid CA that did not issue the DC's certificate: the system bundle's first one.
    bundle = open("/etc/ssl/certs/ca-certificates.crt").read()
    other_ca.write_text(bundle[:bundle.index("-----END CERTIFICATE-----") + 26])
    with pytest.raises(_errors.TLSFailure, match="certificate verify failed") as info:
        _ldap.Directory(settings(dc, ca_cert=str(other_ca))).connect()
    assert "ca_cert" in str(info.value)


def test_nothing_listening_lists_every_server_tried(dc):
    with pytest.raises(_errors.ServerUnreachable) as info:
        _ldap.Directory(settings(dc, server=["127.0.0.1:9", "localhost:10"], connect_timeout=2)).connect()
    assert "127.0.0.1:9 (connection refused)" in str(info.value)
    assert "localhost:10" in str(info.value)


def test_second_server_used_when_first_is_down(dc):
    with _ldap.Directory(settings(dc, server=["127.0.0.1:9", "%s:636" % dc["server"]])) as directory:
        assert directory.server_used.endswith(":636")


def test_identity_by_every_kind(dc, directory):
    alice = dc["users"]["alice"]
    for identity in (alice["dn"], alice["objectGUID"], alice["objectSid"], "alice", "EXAMPLE\\alice",
                     alice["upn"]):
        assert directory.resolve(identity).dn == alice["dn"], identity
    nomail_upn = [u for u in dc["users"].values() if u.get("mail") and u["mail"] != u.get("upn")]
    user = nomail_upn[0]
    assert directory.resolve(user["mail"], "mail").dn == user["dn"]


@pytest.mark.parametrize("sam", ["o'brien", "astarb", "(paren)", "zoë.müller"])
def test_tricky_names_are_escaped(dc, directory, sam):
    user = dc["users"][sam]
    found = directory.resolve(sam, "sAMAccountName")
    assert found.dn == user["dn"]
    # The mail and cn carry the characters that are not allowed in sAMAccountName.
    if user.get("mail"):
        assert directory.resolve(user["mail"], "mail").dn == user["dn"]


def test_star_is_not_a_wildcard(dc, directory):
    # 'a*b' would match 'axxb' too if the * reached the server unescaped.
    with pytest.raises(_errors.UserNotFound):
        directory.resolve("a*b", "sAMAccountName")
    star_user = [u for u in dc["users"].values() if "*" in (u.get("mail") or "")][0]
    assert directory.resolve(star_user["mail"], "mail").dn == star_user["dn"]


def test_ambiguous_and_missing_are_distinct(dc, directory):
    with pytest.raises(_errors.AmbiguousIdentity, match="2 objects match"):
        directory.resolve(dc["shared_mail"])
    with pytest.raises(_errors.UserNotFound, match="nobody-here"):
        directory.resolve("nobody-here")


def test_read_matches_independent_reader(dc, directory):
    for sam, user in dc["users"].items():
        expected = dcread.read_photo(user["dn"])
        assert directory.read_photo(user["dn"]) == expected, sam


def test_paged_search_sees_every_person(dc, directory):
    found = {u.sam_account_name for u, dummy in directory.find_users("(sAMAccountName=*)")}
    assert set(dc["users"]) <= found
    paged = {e["dn"] for e in directory.find_entries(_ldap.PERSON_FILTER, ["cn"], page_size=3)}
    assert len(paged) == len(found)


def test_compare_and_swap_detects_a_concurrent_writer(dc, directory):
    dn = dc["users"]["heidi"]["dn"]
    original = dcread.read_photo(dn)
    try:
        before = directory.read_photo(dn)
        dcread.write_photo_raw(dn, b"written-by-someone-else")  # between our read and our write
        with pytest.raises(_errors.Conflict, match="changed since it was read"):
            directory.swap_photo(dn, "thumbnailPhoto", before, b"ours")
        assert dcread.read_photo(dn) == b"written-by-someone-else"
        directory.swap_photo(dn, "thumbnailPhoto", before, b"ours", force=True)
        assert dcread.read_photo(dn) == b"ours"
        # Adding where someone else added first is a conflict too (single-valued attribute).
        dcread.clear_photo_raw(dn)
        dcread.write_photo_raw(dn, b"theirs")
        with pytest.raises(_errors.Conflict):
            directory.swap_photo(dn, "thumbnailPhoto", None, b"ours")
        # Clearing a value that is no longer there is a conflict as well.
        with pytest.raises(_errors.Conflict):
            directory.swap_photo(dn, "thumbnailPhoto", b"ours", None)
        directory.swap_photo(dn, "thumbnailPhoto", b"theirs", None)
        assert dcread.read_photo(dn) is None
    finally:
        if original is None:
            dcread.clear_photo_raw(dn)
        else:
            dcread.write_photo_raw(dn, original)


def test_oversize_value_refused_before_writing(dc, directory):
    dn = dc["users"]["heidi"]["dn"]
    before = dcread.read_photo(dn)
    with pytest.raises(_errors.ValueTooLarge, match="102400"):
        directory.swap_photo(dn, "thumbnailPhoto", before, b"x" * 102401)
    assert dcread.read_photo(dn) == before


def test_delegated_account_inside_and_outside_its_ou(dc):
    delegate = dc["delegate"]
    inside = [u for u in dc["users"].values() if u.get("in_delegated_ou")][0]
    outside = [u for u in dc["users"].values() if not u.get("in_delegated_ou")][0]
    with _ldap.Directory(settings(dc, username=delegate["username"], password=delegate["password"])) as directory:
        for user, allowed in ((inside, True), (outside, False)):
            original = dcread.read_photo(user["dn"])
            new = b"delegate-" + hashlib.sha256(user["dn"].encode()).hexdigest().encode()
            if allowed:
                directory.swap_photo(user["dn"], "thumbnailPhoto", original, new)
                assert dcread.read_photo(user["dn"]) == new
                dcread.clear_photo_raw(user["dn"]) if original is None else dcread.write_photo_raw(user["dn"], original)
            else:
                with pytest.raises(_errors.PermissionDenied) as info:
                    directory.swap_photo(user["dn"], "thumbnailPhoto", original, new)
                assert "Write thumbnailPhoto" in str(info.value) and delegate["username"] in str(info.value)
                assert dcread.read_photo(user["dn"]) == original


def test_change_metadata_counts_writes(dc, directory):
    dn = dc["users"]["ivan"]["dn"]
    original = dcread.read_photo(dn)
    try:
        first = directory.photo_change_metadata(dn)
        dcread.write_photo_raw(dn, b"one-more-version")
        second = directory.photo_change_metadata(dn)
        assert second["version"] == (first["version"] if first else 0) + 1
        assert second["originating_dc"] == dc["dc_hostname"]
        assert second["changed"] >= (first["changed"] if first else "")
    finally:
        dcread.clear_photo_raw(dn) if original is None else dcread.write_photo_raw(dn, original)


def test_jpeg_photo_metadata_attid(dc, directory):
    dn = dc["users"]["ivan"]["dn"]
    try:
        dcread.write_photo_raw(dn, b"jpeg-photo-value", attribute="jpegPhoto")
        meta = directory.photo_change_metadata(dn, "jpegPhoto")
        assert meta is not None and meta["version"] >= 1
    finally:
        dcread.clear_photo_raw(dn, attribute="jpegPhoto")


def test_netbios_domain(dc, directory):
    assert directory.netbios_domain() == dc["netbios_domain"]
