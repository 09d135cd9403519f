#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Throw-away people in their own OU of the test DC, made fast with plain ldap3 (never the collection).

People get ``userAccountControl`` 544 (a normal account that needs no password): enabled, so they
are in a sync's default scope, and no password to set (setting one costs about 30 ms a person).

API::

    ou = create_ou(dc, name=None) -> DN            # OU=<name or sync-xxxx>,<base_dn>
    add_people(dc, ou, people, workers=2)          # people: [{"sam", "photo": bytes|None, "mail", "disabled"}]
    delete_ou(dc, ou)                              # the OU and everything below it

CLI (for playbooks)::

    python scratch_people.py create DC_JSON OU_NAME COUNT [--photo-every N]  -> prints {"ou": DN, "people": [...]}
    python scratch_people.py delete DC_JSON OU_DN
"""

import argparse
import io
import json
import ssl
import sys
import threading
import uuid

import ldap3
from ldap3.utils.dn import escape_rdn

UAC_ENABLED_NO_PASSWORD = 544   # NORMAL_ACCOUNT | PASSWD_NOTREQD
UAC_DISABLED_NO_PASSWORD = 546  # ... | ACCOUNTDISABLE


def connect(dc, receive_timeout=30):
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=dc["ca_cert"])
    server = ldap3.Server(dc["server"], port=dc["ldaps_port"], use_ssl=True, tls=tls, connect_timeout=5)
    return ldap3.Connection(server, user=dc["admin"]["username"], password=dc["admin"]["password"],
                            auto_bind=True, raise_exceptions=True, receive_timeout=receive_timeout)


def create_ou(dc, name=None, parent=None):
    name = name or "sync-%s" % uuid.uuid4().hex[:8]
    dn = "OU=%s,%s" % (escape_rdn(name), parent or dc["base_dn"])
    conn = connect(dc)
    try:
        conn.add(dn, ["top", "organizationalUnit"], {"description": "photosync test: throw-away people"})
    finally:
        conn.unbind()
    return dn


def person_dn(ou, sam):
    return "CN=%s,%s" % (escape_rdn(sam), ou)


def add_people(dc, ou, people, workers=2):
    """Add people (dicts with sam, and optionally photo, mail, upn, disabled, display) under ``ou``."""
    errors = []

    def work(chunk):
        try:
            conn = connect(dc)
            for person in chunk:
                sam = person["sam"]
                attrs = {"sAMAccountName": sam, "sn": sam, "displayName": person.get("display", "Sync %s" % sam),
                         "userPrincipalName": person.get("upn", "%s@%s" % (sam, dc["dns_domain"])),
                         "userAccountControl": str(UAC_DISABLED_NO_PASSWORD if person.get("disabled")
                                                   else UAC_ENABLED_NO_PASSWORD)}
                mail = person.get("mail", "%s@%s" % (sam, dc["dns_domain"]))
                if mail:
                    attrs["mail"] = mail
                if person.get("photo") is not None:
                    attrs["thumbnailPhoto"] = person["photo"]
                conn.add(person_dn(ou, sam), ["top", "person", "organizationalPerson", "user"], attrs)
            conn.unbind()
        except Exception as exc:  # reported below; a fixture must not half-fail silently
            errors.append(exc)

    workers = max(1, min(workers, len(people)))
    threads = [threading.Thread(target=work, args=(people[i::workers],)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [person_dn(ou, p["sam"]) for p in people]


def delete_ou(dc, ou):
    # One tree delete takes as long as Samba needs for everybody below (about 20 ms a person, far more on
    # a busy machine): 1,100 people passed 30 s.  A client that gives up early leaves Samba deleting on.
    conn = connect(dc, receive_timeout=600)
    try:
        conn.delete(ou, controls=[("1.2.840.113556.1.4.805", True, None)])  # tree delete
    except ldap3.core.exceptions.LDAPNoSuchObjectResult:
        pass
    finally:
        conn.unbind()


def _jpeg(seed, size=(200, 150)):
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256)).save(out, "JPEG", quality=85)
    return out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create")
    create.add_argument("dc_json")
    create.add_argument("name")
    create.add_argument("count", type=int)
    create.add_argument("--photo-every", type=int, default=0, help="every Nth person starts with a photo")
    delete = sub.add_parser("delete")
    delete.add_argument("dc_json")
    delete.add_argument("ou")
    args = parser.parse_args(argv)
    with open(args.dc_json) as handle:
        dc = json.load(handle)
    if args.command == "delete":
        delete_ou(dc, args.ou)
        return
    ou = "OU=%s,%s" % (escape_rdn(args.name), dc["base_dn"])
    delete_ou(dc, ou)
    create_ou(dc, args.name)
    people = [dict(sam="%s-%03d" % (args.name, i)) for i in range(1, args.count + 1)]
    for i, person in enumerate(people, 1):
        if args.photo_every and i % args.photo_every == 0:
            person["photo"] = _jpeg(i)
    dns = add_people(dc, ou, people)
    print(json.dumps({"ou": ou, "people": [dict(sam=p["sam"], dn=dn) for p, dn in zip(people, dns)]}))


if __name__ == "__main__":
    sys.exit(main())
