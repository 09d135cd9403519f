"""Identities that must not find the wrong object, against the real Samba DC (S4, 15).

Every refusal is checked for what it prevents: the photo of the person the identity would
otherwise have reached is read back with dcread (ldapsearch) and must be unchanged.
"""

import uuid

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


@pytest.fixture
def computer(dc, ldap_connect):
    """A computer object (objectClass user + computer) in OU=People, deleted afterwards."""
    admin = ldap_connect()
    name = "pc-%s" % uuid.uuid4().hex[:8]
    dn = "CN=%s,%s" % (name, dc["ous"]["people"])
    admin.add(dn, ["top", "person", "organizationalPerson", "user", "computer"],
              {"sAMAccountName": name + "$", "userAccountControl": "4096"})
    yield dict(dn=dn, sAMAccountName=name + "$")
    admin.delete(dn)


@pytest.mark.parametrize("identity", ["alice\x00bob", "bob\x00", "alice\n", "al\x1bice", "alice\x7f",
                                      "alice\x85"])
def test_control_characters_in_identities_are_refused(dc, directory, identity):
    """S4: failed before the fix - an identity with a NUL was accepted and Samba cut the value at the NUL,
    so ``alice\\x00bob`` found (and would have written) alice."""
    with pytest.raises(_errors.ConfigurationError, match="control character") as info:
        directory.resolve(identity)
    assert "\x00" not in str(info.value)  # shown escaped, not raw


def test_control_character_in_a_dn_identity_is_refused(dc, directory):
    """S4: the same for a DN identity (read by base search)."""
    with pytest.raises(_errors.ConfigurationError, match="control character"):
        directory.resolve(dc["users"]["alice"]["dn"] + "\x00CN=x")


def test_foreign_domain_prefix_is_refused(dc, directory):
    """S4: failed before the fix - the DOMAIN\\ part was dropped, so ``NOTMYDOMAIN\\bob`` found bob."""
    with pytest.raises(_errors.UserNotFound) as info:
        directory.resolve("NOTMYDOMAIN\\bob")
    text = str(info.value)
    assert "NOTMYDOMAIN" in text and dc["netbios_domain"] in text


@pytest.mark.parametrize("prefix", ["{netbios}", "{netbios_lower}"])
def test_own_domain_prefix_still_works(dc, directory, prefix):
    name = prefix.format(netbios=dc["netbios_domain"], netbios_lower=dc["netbios_domain"].lower())
    assert directory.resolve(name + "\\bob").dn == dc["users"]["bob"]["dn"]
    assert directory.resolve(name + "\\bob", "sAMAccountName").dn == dc["users"]["bob"]["dn"]


def test_dn_of_a_computer_is_not_a_person(dc, directory, computer):
    """S4: failed before the fix - a DN identity skipped the people-only filter, so a computer object
    was found (and got a photo)."""
    with pytest.raises(_errors.UserNotFound) as info:
        directory.resolve(computer["dn"])
    assert "not a person" in str(info.value)
    assert "allow_any_object_dn" in str(info.value)  # the hint names the opt-out
    # A computer by sAMAccountName was never found either (unchanged behaviour).
    with pytest.raises(_errors.UserNotFound):
        directory.resolve(computer["sAMAccountName"])
    assert dcread.read_photo(computer["dn"], dc_info=dc) is None


def test_dn_of_a_computer_with_the_explicit_opt_out(dc, computer):
    """S4: allow_any_object_dn=true lets a DN name any object, for whoever needs that."""
    with _ldap.Directory(settings(dc, allow_any_object_dn=True)) as directory:
        assert directory.resolve(computer["dn"]).dn.lower() == computer["dn"].lower()


def test_dn_of_a_person_still_works(dc, directory):
    alice = dc["users"]["alice"]
    assert directory.resolve(alice["dn"]).dn == alice["dn"]
    assert directory.resolve(alice["dn"], "dn").dn == alice["dn"]


def test_missing_dn_message_names_the_dn_once(dc, directory):
    """15: failed before the fix - the message was 'no user matches the DN under <the same DN>'."""
    missing = "CN=Nobody Here,%s" % dc["ous"]["people"]
    with pytest.raises(_errors.UserNotFound) as info:
        directory.resolve(missing)
    text = str(info.value)
    assert "under %s" % missing not in text
    assert "no object has the DN" in text
