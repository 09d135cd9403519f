"""Searches over more people than one page (500), with LDAP reads inside the loop.

A session fixture puts 1,200 people (no passwords, so adding them is fast) into a dedicated
OU=Paging; it reuses them when they are already there and removes the OU at the end.  Counts
are checked with dcread.search_dns (ldapsearch with its own paging), never with the code under test.
"""

import threading

import pytest

import dcread
from ansible_collections.photosync.ad.plugins.module_utils import _ldap, _photo_info

PAGING_PEOPLE = 1200
TREE_DELETE = "1.2.840.113556.1.4.805"


def _settings(dc, **overrides):
    options = dict(server=[dc["server"]], ca_cert=dc["ca_cert"], username=dc["admin"]["username"],
                   password=dc["admin"]["password"])
    options.update(overrides)
    return _ldap.ConnectionSettings(**options)


def _bound(dc):
    import ssl

    import ldap3
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=dc["ca_cert"])
    server = ldap3.Server(dc["server"], port=dc["ldaps_port"], use_ssl=True, tls=tls, connect_timeout=5)
    return ldap3.Connection(server, user=dc["admin"]["username"], password=dc["admin"]["password"],
                            auto_bind=True, raise_exceptions=True, receive_timeout=60)


@pytest.fixture(scope="module")
def paging_ou(dc):
    """OU=Paging,<base> holding PAGING_PEOPLE people (page0001...), made idempotently, removed afterwards."""
    import ldap3
    ou = "OU=Paging,%s" % dc["base_dn"]
    conn = _bound(dc)
    try:
        conn.search(ou, "(objectClass=*)", ldap3.BASE)
    except ldap3.core.exceptions.LDAPNoSuchObjectResult:
        conn.add(ou, ["top", "organizationalUnit"], {"description": "photosync test: paging (test_paging.py)"})
    existing = set()
    for entry in conn.extend.standard.paged_search(ou, "(objectClass=user)", ldap3.LEVEL, attributes=["sAMAccountName"],
                                                   paged_size=500, generator=True):
        if entry.get("type") == "searchResEntry":
            existing.add(str(entry["attributes"]["sAMAccountName"]))
    wanted = ["page%04d" % i for i in range(1, PAGING_PEOPLE + 1)]
    missing = [sam for sam in wanted if sam not in existing]
    errors = []

    def add(names):
        worker = _bound(dc)
        try:
            for sam in names:
                worker.add("CN=%s,%s" % (sam, ou), ["top", "person", "organizationalPerson", "user"],
                           {"sAMAccountName": sam, "sn": sam, "displayName": "Paging %s" % sam,
                            "userPrincipalName": "%s@%s" % (sam, dc["dns_domain"])})
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            worker.unbind()

    threads = [threading.Thread(target=add, args=(missing[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    yield ou
    conn = _bound(dc)  # a test may have restarted the DC in between
    conn.delete(ou, controls=[(TREE_DELETE, True, None)])
    conn.unbind()


def _independent_people(dc, ou):
    return set(dn.lower() for dn in dcread.search_dns(ou, _ldap.PERSON_FILTER, dc_info=dc))


def test_info_filter_search_reports_every_page_with_metadata(dc, paging_ou):
    """1: failed before the fix - thumbnail_photo_info with ``filter:`` and the default include_metadata
    reported 500 of 1,200 people: the per-person metadata read replaced the paging cookie."""
    expected = _independent_people(dc, paging_ou)
    assert len(expected) == PAGING_PEOPLE
    params = dict(identities=None, identity_type="auto", filter="(sAMAccountName=page*)", scope="subtree",
                  search_base=paging_ou, attribute="thumbnailPhoto", include_metadata=True,
                  include_content=False, export_dir=None, export_name=_photo_info.DEFAULT_EXPORT_NAME,
                  fail_on_unresolved=False)
    with _ldap.Directory(_settings(dc)) as directory:
        users = _photo_info.collect(directory, params)
    assert len(users) == PAGING_PEOPLE
    assert set(u["dn"].lower() for u in users) == expected


def test_find_users_survives_reads_inside_the_loop(dc, paging_ou):
    """1: failed before the fix - any LDAP read inside a find_users loop stopped the search after the
    first page."""
    expected = _independent_people(dc, paging_ou)
    seen = []
    with _ldap.Directory(_settings(dc)) as directory:
        for user, dummy in directory.find_users("(sAMAccountName=page*)", search_base=paging_ou):
            directory.read_values(user.dn, "thumbnailPhoto")  # a nested operation on the same connection
            seen.append(user.dn.lower())
    assert len(seen) == len(set(seen)) == PAGING_PEOPLE
    assert set(seen) == expected


def test_find_entries_small_pages_with_nested_reads(dc, paging_ou):
    """1: the same with many small pages and a nested paged search in the loop."""
    expected = _independent_people(dc, paging_ou)
    seen = set()
    with _ldap.Directory(_settings(dc)) as directory:
        for entry in directory.find_entries(_ldap.PERSON_FILTER, ["cn"], search_base=paging_ou, page_size=97):
            seen.add(entry["dn"].lower())
            if len(seen) % 200 == 0:
                inner = list(directory.find_entries(_ldap.PERSON_FILTER, ["cn"], search_base=dc["ous"]["staff"],
                                                    page_size=3))
                assert inner
    assert seen == expected
