# -*- coding: utf-8 -*-
"""uSNChanged polling helpers (_ldap.dc_change_point / find_changed) and the LDAP write pool,
against the real Samba AD DC, checked with plain ldap3 as the independent reader."""

import hashlib
import uuid

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _ldap, _parallel


def settings(dc):
    return _ldap.ConnectionSettings(server=[dc["server"]], ca_cert=dc["ca_cert"], username=dc["admin"]["username"],
                                    password=dc["admin"]["password"])


@pytest.fixture
def directory(dc):
    with _ldap.Directory(settings(dc)) as opened:
        yield opened


def plain_connection(dc):
    """A plain ldap3 connection without schema checks (rootDSE attributes are operational)."""
    import ssl
    import ldap3
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=dc["ca_cert"])
    server = ldap3.Server(dc["server"], port=dc["ldaps_port"], use_ssl=True, tls=tls, get_info=ldap3.NONE)
    return ldap3.Connection(server, user=dc["admin"]["username"], password=dc["admin"]["password"], auto_bind=True)


def test_change_point_matches_independent_reader(dc, directory):
    import ldap3
    point = _ldap.dc_change_point(directory)
    conn = plain_connection(dc)
    conn.search("", "(objectClass=*)", search_scope=ldap3.BASE, attributes=["dsServiceName", "highestCommittedUSN"])
    raw = conn.response[0]["raw_attributes"]
    assert point["service_name"] == raw["dsServiceName"][0].decode()
    assert point["highest_usn"] <= int(raw["highestCommittedUSN"][0])
    conn.search(point["service_name"], "(objectClass=*)", search_scope=ldap3.BASE, attributes=["invocationId"])
    assert point["invocation_id"] == str(uuid.UUID(bytes_le=conn.response[0]["raw_attributes"]["invocationId"][0]))


def test_usn_moves_with_a_photo_write(dc, directory, scratch_user, ldap_connect):
    import ldap3
    person = scratch_user(photo=b"\xff\xd8first")
    before = _ldap.dc_change_point(directory)
    ldap_connect().modify(person["dn"], {"thumbnailPhoto": [(ldap3.MODIFY_REPLACE, [b"\xff\xd8second"])]})
    after = _ldap.dc_change_point(directory)
    assert after["highest_usn"] > before["highest_usn"]


def test_find_changed_returns_only_people_changed_since(dc, directory, scratch_user, ldap_connect):
    import ldap3
    old = scratch_user(photo=b"\xff\xd8old")
    point = _ldap.dc_change_point(directory)
    changed = [scratch_user(), scratch_user()]
    ldap_connect().modify(old["dn"], {"thumbnailPhoto": [(ldap3.MODIFY_REPLACE, [b"\xff\xd8new"])]})
    found = {}
    # Page size 1 and another operation on the same connection inside the loop: every page is read whole.
    for entry in _ldap.find_changed(directory, _ldap.PERSON_FILTER, ["sAMAccountName", "thumbnailPhoto"],
                                    min_usn=point["highest_usn"] + 1, search_base=dc["ous"]["staff"], page_size=1):
        directory.read_values(entry["dn"], "sAMAccountName")
        found[entry["dn"]] = entry
    assert set(found) == set([old["dn"]] + [p["dn"] for p in changed])
    assert _ldap.entry_usn(found[old["dn"]]) > point["highest_usn"]
    assert found[old["dn"]]["raw_attributes"]["thumbnailPhoto"] == [b"\xff\xd8new"]
    assert _ldap.entry_to_user(directory, found[old["dn"]]).sam_account_name == old["sAMAccountName"]
    assert all(_ldap.entry_guid(e) for e in found.values())


def test_deleted_person_is_seen_only_with_show_deleted(dc, directory, scratch_user, ldap_connect):
    person = scratch_user()
    guid = _ldap.entry_guid(next(_ldap.find_changed(directory, "(objectClass=*)", [], search_base=person["dn"],
                                                    scope="base")))
    point = _ldap.dc_change_point(directory)
    ldap_connect().delete(person["dn"])
    base = directory.root_dse()["defaultNamingContext"]
    plain = set(_ldap.entry_guid(e) for e in _ldap.find_changed(directory, "(objectClass=*)", [],
                                                                min_usn=point["highest_usn"] + 1, search_base=base))
    shown = set(_ldap.entry_guid(e) for e in _ldap.find_changed(directory, "(objectClass=*)", [],
                                                                min_usn=point["highest_usn"] + 1, search_base=base,
                                                                show_deleted=True))
    assert guid not in plain
    assert guid in shown


def test_directory_pool_writes_over_several_connections(dc, scratch_user, ldap_connect):
    import ldap3
    people = [scratch_user(photo=b"\xff\xd8before") for dummy in range(9)]
    photos = dict((p["dn"], hashlib.sha256(p["dn"].encode()).digest() + b"\xff\xd9") for p in people)

    def write(directory, dn):
        directory.swap_photo(dn, "thumbnailPhoto", b"\xff\xd8before", photos[dn])
        return directory

    with _parallel.DirectoryPool(lambda: _ldap.Directory(settings(dc)).connect(), connections=3) as pool:
        results = list(pool.map(write, ((p["dn"], p["dn"]) for p in people)))
    assert [error for dummy, dummy2, error in results] == [None] * 9
    assert 1 <= len(set(id(d) for dummy, d, dummy2 in results)) <= 3
    reader = ldap_connect()
    for person in people:
        reader.search(person["dn"], "(objectClass=*)", search_scope=ldap3.BASE, attributes=["thumbnailPhoto"])
        assert reader.response[0]["raw_attributes"]["thumbnailPhoto"] == [photos[person["dn"]]]
