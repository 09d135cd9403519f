"""Kerberos (SASL GSSAPI) binds against the real Samba AD DC and its Heimdal KDC, checked with dcread.

tests/support/samba-dc runs the KDC (server services = ldap kdc) on 127.0.0.1:88 and writes a krb5.conf
for the realm (dc["krb5_conf"]): no DNS, no host name canonicalization. The tests connect to 127.0.0.1
(the name in the LDAPS certificate) and ask for the DC's real service principal
ldap/dc1.example.test with kerberos_hostname_override, so no /etc/hosts entry is needed.

Every test uses its own empty ticket cache (KRB5CCNAME), so a ticket can only come from the module
(password) or from the kinit the test runs itself.
"""

import hashlib
import json
import os
import subprocess

import pytest

import dcread
from playrunner import run_playbook

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _ldap


@pytest.fixture
def krb(dc, tmp_path, monkeypatch):
    """Environment for Kerberos: the test DC's krb5.conf and a private, empty ticket cache."""
    if not dc.get("krb5_conf") or not os.path.isfile(dc["krb5_conf"]):
        pytest.fail("the test DC has no krb5.conf (dc.json key krb5_conf): it was started by an older "
                    "tests/support/samba-dc; restart it: tests/support/samba-dc stop && tests/support/samba-dc start",
                    pytrace=False)
    cache = "FILE:%s" % (tmp_path / "krb5cc")
    monkeypatch.setenv("KRB5_CONFIG", dc["krb5_conf"])
    monkeypatch.setenv("KRB5CCNAME", cache)
    monkeypatch.delenv("KRB5_CLIENT_KTNAME", raising=False)
    return dict(cache=cache, realm=dc["realm"], service_host=dc["ldap_service_host"])


def settings(dc, krb, **overrides):
    options = dict(server=[dc["server"]], ca_cert=dc["ca_cert"], auth_protocol="kerberos",
                   username=dc["admin"]["username"], password=dc["admin"]["password"],
                   kerberos_hostname_override=krb["service_host"])
    options.update(overrides)
    return _ldap.ConnectionSettings(**options)


def kinit(krb, principal, password):
    outcome = subprocess.run(["kinit", principal], input=password + "\n", env=dict(os.environ),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                             timeout=30, check=False)
    assert outcome.returncode == 0, outcome.stdout


def cached_services(krb):
    """The service principals that have a ticket in the test's cache (klist)."""
    outcome = subprocess.run(["klist", krb["cache"]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, timeout=30, check=False)
    if outcome.returncode != 0:
        return []
    # "11/28/26 14:26:13  11/29/26 00:26:13  ldap/dc1.example.test@EXAMPLE.TEST"
    return [line.split()[-1] for line in outcome.stdout.splitlines()
            if line[:1].isdigit() and "@" in line.split()[-1]]


# ------------------------------------------------------------------ binds that work

@pytest.mark.parametrize("mode", ["ldaps", "start_tls"])
def test_administrator_with_password_resolves_and_reads_a_photo(dc, krb, mode):
    alice = dc["users"]["alice"]
    with _ldap.Directory(settings(dc, krb, tls_mode=mode)) as directory:
        user = directory.resolve("alice")
        photo = directory.read_photo(user.dn)
    assert user.dn == alice["dn"] and user.object_guid == alice["objectGUID"]
    assert photo is not None and photo == dcread.read_photo(alice["dn"])
    # The ticket came from the password and stayed in memory: the cache was not touched.
    assert not os.path.exists(krb["cache"][len("FILE:"):])


def test_upn_and_domain_backslash_user_name_the_same_principal(dc, krb):
    for username in (dc["admin"]["username"], dc["admin"]["netbios_username"], "Administrator@" + krb["realm"]):
        with _ldap.Directory(settings(dc, krb, username=username)) as directory:
            assert directory.resolve("bob").dn == dc["users"]["bob"]["dn"]


def test_seeded_user_with_password_reads_another_users_photo(dc, krb):
    judy = dc["users"]["judy"]
    assert judy["has_photo"]
    with _ldap.Directory(settings(dc, krb, username=dc["users"]["alice"]["upn"],
                                  password=dc["user_password"])) as directory:
        photo = directory.read_photo(directory.resolve(judy["sAMAccountName"]).dn)
    assert photo == dcread.read_photo(judy["dn"])


def test_the_bound_identity_is_the_kerberos_principal(dc, krb, scratch_user):
    """The delegate may write thumbnailPhoto below OU=Staff only: a write there works and a write outside
    is refused, which no other identity (anonymous, Administrator, alice) would produce together."""
    delegate = dc["delegate"]
    inside = scratch_user("staff")
    outside = scratch_user("people")
    with _ldap.Directory(settings(dc, krb, username=delegate["username"],
                                  password=delegate["password"])) as directory:
        directory.swap_photo(inside["dn"], "thumbnailPhoto", None, b"\xff\xd8kerberos-delegate")
        with pytest.raises(_errors.PermissionDenied, match="no right"):
            directory.swap_photo(outside["dn"], "thumbnailPhoto", None, b"\xff\xd8kerberos-delegate")
    assert dcread.read_photo(inside["dn"]) == b"\xff\xd8kerberos-delegate"
    assert dcread.read_photo(outside["dn"]) is None


def test_ticket_cache_from_kinit_without_password(dc, krb):
    kinit(krb, "alice@" + krb["realm"], dc["user_password"])
    assert not any(s.startswith("ldap/") for s in cached_services(krb))
    with _ldap.Directory(settings(dc, krb, username=None, password=None)) as directory:
        user = directory.resolve("alice")
    assert user.dn == dc["users"]["alice"]["dn"]
    # The service ticket the bind used is now in the cache: Kerberos really was used.
    assert "ldap/%s@%s" % (krb["service_host"], krb["realm"]) in cached_services(krb)


def test_ticket_cache_with_a_matching_username(dc, krb):
    kinit(krb, "alice@" + krb["realm"], dc["user_password"])
    with _ldap.Directory(settings(dc, krb, username="alice@" + dc["dns_domain"], password=None)) as directory:
        assert directory.resolve("bob").dn == dc["users"]["bob"]["dn"]


# ------------------------------------------------------------------ failures with a clear message

def test_wrong_password_says_so(dc, krb):
    with pytest.raises(_errors.AuthenticationFailed) as caught:
        _ldap.Directory(settings(dc, krb, password="not-the-password")).connect()
    text = str(caught.value)
    assert "the password is wrong" in text and "Administrator@EXAMPLE.TEST" in text
    assert "Preauthentication failed" in text


def test_unknown_principal_says_so(dc, krb):
    with pytest.raises(_errors.AuthenticationFailed, match="does not know the principal nobody-here@EXAMPLE.TEST"):
        _ldap.Directory(settings(dc, krb, username="nobody-here@example.test", password="x")).connect()


def test_disabled_account_is_refused(dc, krb):
    disabled = [u for u in dc["users"].values() if u.get("disabled")][0]
    with pytest.raises(_errors.AuthenticationFailed, match="disabled or locked out"):
        _ldap.Directory(settings(dc, krb, username=disabled["upn"], password=dc["user_password"])).connect()


def test_no_ticket_and_no_password_says_so(dc, krb):
    with pytest.raises(_errors.AuthenticationFailed) as caught:
        _ldap.Directory(settings(dc, krb, username=None, password=None)).connect()
    assert "there is no Kerberos ticket" in str(caught.value) and "kinit" in str(caught.value)


def test_ticket_of_another_principal_says_so(dc, krb):
    kinit(krb, "alice@" + krb["realm"], dc["user_password"])
    with pytest.raises(_errors.AuthenticationFailed, match="no ticket for bob@EXAMPLE.TEST"):
        _ldap.Directory(settings(dc, krb, username="bob@example.test", password=None)).connect()


def test_service_principal_of_an_ip_address_is_unknown(dc, krb):
    with pytest.raises(_errors.AuthenticationFailed) as caught:
        _ldap.Directory(settings(dc, krb, kerberos_hostname_override=None)).connect()
    text = str(caught.value)
    assert "does not know the service ldap/%s" % dc["server"] in text
    assert "kerberos_hostname_override" in text


def test_unreachable_kdc_says_so(dc, krb, tmp_path, monkeypatch):
    # The realm's KDC is a port where nothing listens.
    conf = tmp_path / "krb5.conf"
    conf.write_text("[libdefaults]\n    default_realm = %s\n    dns_lookup_kdc = false\n\n[realms]\n"
                    "    %s = {\n        kdc = 127.0.0.1:9\n    }\n" % (krb["realm"], krb["realm"]))
    monkeypatch.setenv("KRB5_CONFIG", str(conf))
    with pytest.raises(_errors.AuthenticationFailed, match="no KDC answered"):
        _ldap.Directory(settings(dc, krb)).connect()


def test_realm_missing_from_krb5_conf_says_so(dc, krb, tmp_path, monkeypatch):
    conf = tmp_path / "krb5.conf"
    conf.write_text("[libdefaults]\n    dns_lookup_kdc = false\n    dns_lookup_realm = false\n")
    monkeypatch.setenv("KRB5_CONFIG", str(conf))
    with pytest.raises(_errors.AuthenticationFailed, match="krb5.conf names no KDC for the realm"):
        _ldap.Directory(settings(dc, krb)).connect()


def test_kerberos_without_tls_is_refused_by_the_dc_with_a_hint(dc, krb):
    with pytest.raises(_errors.StrongerAuthRequired, match="tls_mode=ldaps"):
        _ldap.Directory(settings(dc, krb, tls_mode="none")).connect()


def test_password_without_username_is_a_configuration_error():
    with pytest.raises(_errors.ConfigurationError, match="needs username"):
        _ldap.ConnectionSettings(server=["127.0.0.1:9"], auth_protocol="kerberos", password="x")


# ------------------------------------------------------------------ a module through ansible-playbook

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/photosync.ad.ldap:
      server: "{{ dc.server }}"
      ca_cert: "{{ dc.ca_cert }}"
      auth_protocol: kerberos
      kerberos_hostname_override: "{{ dc.ldap_service_host }}"
      username: "{{ dc.admin.username }}"
      password: "{{ kerberos_password }}"
  tasks:
    - name: Report photos over a Kerberos bind
      photosync.ad.thumbnail_photo_info:
        identities: "{{ people }}"
        include_metadata: false
      register: info
      ignore_errors: true
    - name: Hand the result to the test
      ansible.builtin.copy:
        content: "{{ info | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
"""


def run_info_playbook(dc, tmp_path, password, people):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    results_file = tmp_path / "results.json"
    outcome = run_playbook(playbook, dict(dc=dc, kerberos_password=password, people=people,
                                          results_file=str(results_file)), tmp_path)
    assert outcome.returncode == 0, outcome.stdout[-6000:]
    return json.loads(results_file.read_text()), outcome.stdout


def test_thumbnail_photo_info_module_binds_with_kerberos(dc, krb, tmp_path):
    people = ["alice", "bob"]
    info, dummy = run_info_playbook(dc, tmp_path, dc["admin"]["password"], people)
    assert not info.get("failed"), info.get("msg")
    by_name = dict((u["sAMAccountName"], u) for u in info["users"])
    alice = dcread.read_photo(dc["users"]["alice"]["dn"])
    assert by_name["alice"]["has_photo"] and by_name["alice"]["bytes"] == len(alice)
    assert by_name["alice"]["sha256"] == hashlib.sha256(alice).hexdigest()
    assert not by_name["bob"]["has_photo"] and dcread.read_photo(dc["users"]["bob"]["dn"]) is None


def test_thumbnail_photo_info_module_wrong_password_fails_clearly(dc, krb, tmp_path):
    info, stdout = run_info_playbook(dc, tmp_path, "not-the-password", ["alice"])
    assert info.get("failed")
    # The Kerberos path answered (a simple bind would say "invalid credentials ... code 52e").
    assert "getting a Kerberos ticket for Administrator@EXAMPLE.TEST failed: the password is wrong" in info["msg"]
    assert "Preauthentication failed" in info["msg"] and "Traceback" not in info["msg"]
    assert "not-the-password" not in stdout
