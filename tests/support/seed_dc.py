#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Seed the throwaway Samba AD DC started by ``tests/support/samba-dc``.

Plain ldap3 (never the collection's own code), so a bug in the collection cannot hide in the
fixture.  Idempotent: re-running puts every seeded object back into its seeded state (attributes,
photo, password, enabled/disabled), so tests that changed something can be undone with
``tests/support/samba-dc seed``.

Writes ``$DIR/dc.json`` (everything tests need) and ``$DIR/env`` (shell exports).

``--bulk N`` adds ``bulk0001..bulkN`` in ``OU=Bulk`` (no passwords, every second one with a photo)
for benchmarks; it only touches OU=Bulk and records the users in ``$DIR/bulk.json``.

Usually run through ``tests/support/samba-dc seed [--bulk N]``.
"""

import argparse
import datetime
import hashlib
import io
import json
import os
import shlex
import struct
import subprocess
import sys
import threading
import time
import uuid

try:
    import ldap3
    from ldap3 import MODIFY_DELETE, MODIFY_REPLACE
    from ldap3.core.exceptions import LDAPException
    from ldap3.protocol.microsoft import security_descriptor_control
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn
    from PIL import Image, ImageDraw
except ImportError as exc:  # pragma: no cover - the bash wrapper checks this first
    sys.exit("seed_dc.py: %s (run it with a Python that has ldap3 and Pillow: '. tests/setup-env' makes the venv and exports PYTHON)" % exc)


# The password every seeded user (except the delegate) gets.  Complexity is off on the test DC.
USER_PASSWORD = "Seeded-User-1"
DELEGATE_SAM = "photo-delegate"
DELEGATE_PASSWORD = "Photo-Delegate-1"
SHARED_MAIL = "shared@example.test"

# schemaIDGUIDs (the same in every AD forest).
THUMBNAILPHOTO_GUID = "8d3bca50-1d7e-11d0-a081-00aa006c33ed"
USER_CLASS_GUID = "bf967aba-0de6-11d0-a285-00aa003049e2"

UAC_NORMAL = 0x200
UAC_DISABLED = 0x2

# OU keys -> RDN path below the domain (None = CN=Users container, which exists already)
OUS = [
    ("people", "OU=People"),
    ("staff", "OU=Staff,OU=People"),
    ("contractors", "OU=Contractors"),
]
OU_DESCRIPTIONS = {
    "people": "photosync test: people (no delegation)",
    "staff": "photosync test: photo-delegate may write thumbnailPhoto here (inherited to users)",
    "contractors": "photosync test: contractors (no delegation)",
    "bulk": "photosync test: bulk users for benchmarks (seed_dc.py --bulk N)",
}

NOT_AN_IMAGE = b"this is not an image: seeded garbage in thumbnailPhoto\n"

# sAMAccountName -> attributes.  'photo' is (width, height) of a generated JPEG, the literal
# bytes NOT_AN_IMAGE, or None.  cn/displayName carry the tricky characters; sAMAccountName
# cannot contain " / \ [ ] : ; | = , + * ? < > so e.g. 'a*b' has sAMAccountName 'astarb'.
USERS = [
    # --- OU=Staff,OU=People: photo-delegate may write thumbnailPhoto here
    dict(sam="alice", ou="staff", cn="Alice Adams", given="Alice", sn="Adams",
         mail="alice@example.test", upn="alice@example.test", photo=(96, 96)),
    dict(sam="bob", ou="staff", cn="Bob Brown", given="Bob", sn="Brown",
         mail="bob@example.test", upn="bob@example.test", photo=None),
    dict(sam="o'brien", ou="staff", cn="Conor O'Brien", given="Conor", sn="O'Brien",
         mail="conor.o'brien@example.test", upn="o'brien@example.test", photo=(96, 96)),
    dict(sam="astarb", ou="staff", cn="a*b", given="a", sn="*b", display="a*b",
         mail="a*b@example.test", upn="astarb@example.test", photo=(96, 96)),
    # decoy: an unescaped (mail=a*b@example.test) filter matches this user too
    dict(sam="axxb", ou="staff", cn="axxb", given="Ax", sn="Xb",
         mail="axxb@example.test", upn="axxb@example.test", photo=None),
    dict(sam="(paren)", ou="staff", cn="(paren)", given="(paren)", sn="(paren)", display="(paren)",
         mail="paren@example.test", upn="(paren)@example.test", photo=(96, 96)),
    dict(sam=u"zo\u00eb.m\u00fcller", ou="staff", cn=u"Zo\u00eb M\u00fcller", given=u"Zo\u00eb", sn=u"M\u00fcller",
         mail="zoe.mueller@example.test", upn=u"zo\u00eb.m\u00fcller@example.test", photo=(96, 96)),
    dict(sam="jsmith", ou="staff", cn="Smith, Jane", given="Jane", sn="Smith", display="Smith, Jane",
         mail="jane.smith@example.test", upn="jsmith@example.test", photo=(120, 120)),
    dict(sam="judy", ou="staff", cn="Judy Jones", given="Judy", sn="Jones",
         mail="judy.jones@example.test", upn="judy@example.test", photo=(128, 128)),
    dict(sam="nomail", ou="staff", cn="No Mail", given="No", sn="Mail",
         mail=None, upn=None, photo=None),
    # --- OU=People (outside the delegation)
    dict(sam="dave", ou="people", cn="Dave Davis", given="Dave", sn="Davis",
         mail="dave@example.test", upn="dave@example.test", photo=(64, 64)),
    dict(sam="erin", ou="people", cn="Erin Evans", given="Erin", sn="Evans",
         mail="erin@example.test", upn="erin@example.test", photo=None),
    dict(sam="frank", ou="people", cn="Frank Fischer", given="Frank", sn="Fischer",
         mail=SHARED_MAIL, upn="frank@example.test", photo=None),
    dict(sam="notanimage", ou="people", cn="Not An Image", given="Not", sn="Image",
         mail="notanimage@example.test", upn="notanimage@example.test", photo=NOT_AN_IMAGE),
    # --- OU=Contractors (outside the delegation)
    dict(sam="grace", ou="contractors", cn="Grace Green", given="Grace", sn="Green",
         mail=SHARED_MAIL, upn="grace@example.test", photo=(96, 96)),
    dict(sam="heidi", ou="contractors", cn="Heidi Hill", given="Heidi", sn="Hill",
         mail="heidi@example.test", upn="heidi@example.test", photo=(300, 200)),
    dict(sam="ivan", ou="contractors", cn="Ivan Ivanov", given="Ivan", sn="Ivanov",
         mail="ivan@example.test", upn="ivan@example.test", photo=(96, 96), disabled=True),
]


def log(msg):
    print("seed_dc: %s" % msg, flush=True)


# ------------------------------------------------------------------ values
def make_jpeg(key, width, height):
    """A small, real, deterministic JPEG that differs per key."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    bg = tuple(64 + b % 160 for b in digest[0:3])
    fg = tuple(255 - c for c in bg)
    img = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(img)
    # a few key-dependent shapes so photos differ visibly, plus the key as text
    for i in range(4):
        x0 = digest[4 + i] % max(1, width // 2)
        y0 = digest[8 + i] % max(1, height // 2)
        x1 = x0 + 8 + digest[12 + i] % max(1, width // 2)
        y1 = y0 + 8 + digest[16 + i] % max(1, height // 2)
        colour = tuple(digest[(20 + i + j) % 32] for j in range(3))
        draw.ellipse((x0, y0, x1, y1), fill=colour)
    draw.text((4, height - 14), key[:12], fill=fg)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def photo_bytes(key, spec):
    if spec is None:
        return None
    if isinstance(spec, bytes):
        return spec
    return make_jpeg(key, spec[0], spec[1])


def photo_facts(data):
    if data is None:
        return dict(has_photo=False, photo_sha256=None, photo_bytes=0,
                    photo_format=None, photo_width=None, photo_height=None)
    fmt = width = height = None
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (width, height) = img.format, img.size
    except Exception:  # not an image: that is the point of the 'notanimage' user
        pass
    return dict(has_photo=True, photo_sha256=hashlib.sha256(data).hexdigest(), photo_bytes=len(data),
                photo_format=fmt, photo_width=width, photo_height=height)


def unicode_pwd(password):
    return ('"%s"' % password).encode("utf-16-le")


def sid_to_str(raw):
    revision, count = raw[0], raw[1]
    authority = int.from_bytes(raw[2:8], "big")
    subs = struct.unpack("<%dI" % count, raw[8:8 + 4 * count])
    return "S-%d-%d" % (revision, authority) + "".join("-%d" % s for s in subs)


def str_to_sid_bytes(sid):
    parts = sid.split("-")
    revision, authority, subs = int(parts[1]), int(parts[2]), [int(p) for p in parts[3:]]
    return bytes([revision, len(subs)]) + authority.to_bytes(6, "big") + struct.pack("<%dI" % len(subs), *subs)


def dacl_has_object_ace(sd, sid, object_guid, inherited_object_guid, mask):
    """True if the self-relative security descriptor's DACL has an ACCESS_ALLOWED_OBJECT ACE
    for sid with (at least) mask on object_guid, inherited to inherited_object_guid objects."""
    dacl_offset = struct.unpack_from("<I", sd, 16)[0]
    if not dacl_offset:
        return False
    ace_count = struct.unpack_from("<H", sd, dacl_offset + 4)[0]
    pos = dacl_offset + 8
    want_obj = uuid.UUID(object_guid).bytes_le
    want_inh = uuid.UUID(inherited_object_guid).bytes_le
    want_sid = str_to_sid_bytes(sid)
    for dummy in range(ace_count):
        ace_type, ace_flags, ace_size = struct.unpack_from("<BBH", sd, pos)
        if ace_type == 5:  # ACCESS_ALLOWED_OBJECT_ACE_TYPE
            ace_mask, flags = struct.unpack_from("<II", sd, pos + 4)
            p = pos + 12
            obj = inh = None
            if flags & 1:
                obj, p = sd[p:p + 16], p + 16
            if flags & 2:
                inh, p = sd[p:p + 16], p + 16
            ace_sid = sd[p:pos + ace_size]
            if (obj == want_obj and inh == want_inh and ace_sid[:len(want_sid)] == want_sid
                    and ace_mask & mask == mask and ace_flags & 0x02):  # CONTAINER_INHERIT
                return True
        pos += ace_size
    return False


# ------------------------------------------------------------------ ldap
class Seeder(object):
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.realm = args.realm.upper()
        self.dns_domain = args.realm.lower()
        self.netbios = args.domain.upper()
        self.base_dn = ",".join("DC=%s" % p for p in self.dns_domain.split("."))
        self.ca_cert = os.path.join(self.dir, "private", "tls", "ca.pem")
        self.conf = os.path.join(self.dir, "etc", "smb.conf")
        with open(args.admin_password_file, "r", encoding="utf-8") as handle:
            self.admin_password = handle.read().strip()
        self.admin_username = "Administrator@%s" % self.dns_domain
        self.ous = dict((key, "%s,%s" % (rdn, self.base_dn)) for key, rdn in OUS)
        self.ous["users"] = "CN=Users,%s" % self.base_dn
        self.ous["bulk"] = "OU=Bulk,%s" % self.base_dn

    def connect(self, user=None, password=None):
        tls = ldap3.Tls(validate=2, ca_certs_file=self.ca_cert)  # ssl.CERT_REQUIRED
        server = ldap3.Server(self.args.server, port=636, use_ssl=True, tls=tls, connect_timeout=10)
        return ldap3.Connection(server, user=user or self.admin_username,
                                password=password or self.admin_password,
                                auto_bind=True, raise_exceptions=True, receive_timeout=30)

    # -- generic helpers
    @staticmethod
    def exists(conn, dn):
        try:
            conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["1.1"])
        except ldap3.core.exceptions.LDAPNoSuchObjectResult:
            return False
        return bool(conn.entries)

    def ensure_ou(self, conn, key):
        dn = self.ous[key]
        if not self.exists(conn, dn):
            conn.add(dn, ["top", "organizationalUnit"], {"description": OU_DESCRIPTIONS[key]})
            log("created %s" % dn)
        return dn

    def find_by_sam(self, conn, sam):
        conn.search(self.base_dn, "(&(objectClass=user)(sAMAccountName=%s))" % escape_filter_chars(sam),
                    attributes=["1.1"])
        return [e.entry_dn for e in conn.entries]

    def ensure_user(self, conn, spec, password):
        """Create or fix up one user; returns its DN."""
        sam = spec["sam"]
        cn = spec["cn"]
        parent = self.ous[spec["ou"]]
        dn = "CN=%s,%s" % (escape_rdn(cn), parent)
        photo = spec.get("_photo")
        uac = UAC_NORMAL | (UAC_DISABLED if spec.get("disabled") else 0)
        attrs = {
            "givenName": spec.get("given"),
            "sn": spec.get("sn"),
            "displayName": spec.get("display") or cn,
            "mail": spec.get("mail"),
            "userPrincipalName": spec.get("upn"),
            "description": spec.get("description") or "photosync seeded test user",
            "thumbnailPhoto": photo,
        }
        found = self.find_by_sam(conn, sam)
        if found and found[0].lower() != dn.lower():
            # someone moved or renamed it: put it back
            conn.modify_dn(found[0], "CN=%s" % escape_rdn(cn), new_superior=parent)
            log("moved %s back to %s" % (found[0], dn))
        if not found:
            add = {"sAMAccountName": sam, "userAccountControl": str(uac)}
            add.update(dict((k, v) for k, v in attrs.items() if v is not None))
            if password:
                add["unicodePwd"] = unicode_pwd(password)
            conn.add(dn, ["top", "person", "organizationalPerson", "user"], add)
            log("created %s" % dn)
        else:
            # change only what differs (samldb refuses to "replace" an absent UPN with nothing)
            attrs["userAccountControl"] = str(uac)
            conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=list(attrs))
            current = conn.entries[0].entry_raw_attributes
            changes = {}
            for key, value in attrs.items():
                want = [] if value is None else [value if isinstance(value, bytes) else value.encode("utf-8")]
                have = list(current.get(key) or [])
                if want != have:
                    changes[key] = [(MODIFY_REPLACE if want else MODIFY_DELETE, want)]
            if password:
                changes["unicodePwd"] = [(MODIFY_REPLACE, [unicode_pwd(password)])]
            if changes:
                conn.modify(dn, changes)
                fixed = sorted(k for k in changes if k != "unicodePwd")
                if fixed:
                    log("fixed %s on %s" % (", ".join(fixed), dn))
        return dn

    def read_ids(self, conn, dn):
        conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE,
                    attributes=["objectGUID", "objectSid", "thumbnailPhoto", "userAccountControl"])
        raw = conn.entries[0].entry_raw_attributes
        return dict(
            objectGUID=str(uuid.UUID(bytes_le=raw["objectGUID"][0])),
            objectSid=sid_to_str(raw["objectSid"][0]),
            thumbnailPhoto=(raw.get("thumbnailPhoto") or [None])[0],
            userAccountControl=int(raw["userAccountControl"][0]),
        )

    def ensure_delegation(self, conn, delegate_sid):
        staff = self.ous["staff"]
        conn.search(staff, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["nTSecurityDescriptor"],
                    controls=security_descriptor_control(sdflags=0x04))
        sd = conn.entries[0].entry_raw_attributes["nTSecurityDescriptor"][0]
        if dacl_has_object_ace(sd, delegate_sid, THUMBNAILPHOTO_GUID, USER_CLASS_GUID, 0x20):
            return False
        sddl = "(OA;CIIO;WP;%s;%s;%s)" % (THUMBNAILPHOTO_GUID, USER_CLASS_GUID, delegate_sid)
        cmd = ["samba-tool", "dsacl", "set", "-s", self.conf, "-H", os.path.join(self.dir, "private", "sam.ldb"),
               "--objectdn=%s" % staff, "--sddl=%s" % sddl]
        proc = subprocess.run(cmd, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        if proc.returncode != 0:
            raise SystemExit("seed_dc: samba-tool dsacl set failed:\n%s" % proc.stdout)
        log("granted %s 'Write thumbnailPhoto' on user objects below %s" % (DELEGATE_SAM, staff))
        return True

    # -- main seed
    def seed(self):
        t0 = time.time()
        conn = self.connect()
        for key, dummy in OUS:
            self.ensure_ou(conn, key)

        # the delegate first, so the ACE exists before users are created below Staff
        delegate_spec = dict(sam=DELEGATE_SAM, ou="users", cn=DELEGATE_SAM, given="Photo", sn="Delegate",
                             mail=None, upn="%s@%s" % (DELEGATE_SAM, self.dns_domain),
                             description="photosync test: may write thumbnailPhoto below OU=Staff,OU=People only")
        delegate_dn = self.ensure_user(conn, delegate_spec, DELEGATE_PASSWORD)
        delegate_ids = self.read_ids(conn, delegate_dn)
        self.ensure_delegation(conn, delegate_ids["objectSid"])

        users = {}
        for spec in USERS:
            spec = dict(spec)
            spec["_photo"] = photo_bytes(spec["sam"], spec["photo"])
            dn = self.ensure_user(conn, spec, USER_PASSWORD)
            ids = self.read_ids(conn, dn)
            if ids["thumbnailPhoto"] != spec["_photo"]:
                raise SystemExit("seed_dc: read-back of %s's thumbnailPhoto differs from what was written" % dn)
            info = dict(
                dn=dn, sAMAccountName=spec["sam"], cn=spec["cn"], displayName=spec.get("display") or spec["cn"],
                upn=spec.get("upn"), mail=spec.get("mail"), ou=spec["ou"],
                objectGUID=ids["objectGUID"], objectSid=ids["objectSid"],
                disabled=bool(ids["userAccountControl"] & UAC_DISABLED), has_password=True,
                in_delegated_ou=dn.lower().endswith("," + self.ous["staff"].lower()),
            )
            info.update(photo_facts(spec["_photo"]))
            users[spec["sam"]] = info
        conn.unbind()

        info = self.dc_info()
        info["users"] = users
        info["delegate"].update(dn=delegate_dn, objectGUID=delegate_ids["objectGUID"],
                                objectSid=delegate_ids["objectSid"])
        old = self.load_json("dc.json")
        if old.get("bulk"):
            info["bulk"] = old["bulk"]
        self.write_json("dc.json", info)
        self.write_env(info)
        log("%d users seeded (%d with photos) in %.1f s" % (
            len(users), sum(1 for u in users.values() if u["has_photo"]), time.time() - t0))

    def dc_info(self):
        info = {
            "version": 1,
            "dir": self.dir,
            "server": self.args.server,
            # The certificate is valid for all of these, but only the default address has them all.
            "server_names": (["127.0.0.1", "localhost", "::1"] if self.args.server == "127.0.0.1"
                             else [self.args.server]),
            "ldaps_port": 636,
            "ldap_port": 389,
            "gc_port": 3268,
            "gc_ssl_port": 3269,
            "ca_cert": self.ca_cert,
            "base_dn": self.base_dn,
            "realm": self.realm,
            "dns_domain": self.dns_domain,
            "netbios_domain": self.netbios,
            "dc_hostname": "%s.%s" % (self.args.host_name, self.dns_domain),
            "admin": {
                "username": self.admin_username,
                "dn": "CN=Administrator,CN=Users,%s" % self.base_dn,
                "netbios_username": "%s\\Administrator" % self.netbios,
                "password": self.admin_password,
            },
            "delegate": {
                "sAMAccountName": DELEGATE_SAM,
                "username": "%s@%s" % (DELEGATE_SAM, self.dns_domain),
                "netbios_username": "%s\\%s" % (self.netbios, DELEGATE_SAM),
                "password": DELEGATE_PASSWORD,
                "can_write_thumbnailphoto_below": self.ous["staff"],
            },
            "user_password": USER_PASSWORD,
            "shared_mail": SHARED_MAIL,
            "ous": dict(self.ous),
            "seeded_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        # Kerberos: samba-dc writes a krb5.conf for the realm when it starts the KDC.
        krb5_conf = os.path.join(self.dir, "etc", "krb5.conf")
        if os.path.isfile(krb5_conf):
            info.update(krb5_conf=krb5_conf, kdc="%s:88" % self.args.server,
                        ldap_service_host=info["dc_hostname"],
                        ldap_service_principal="ldap/%s@%s" % (info["dc_hostname"], self.realm))
        return info

    def load_json(self, name):
        try:
            with open(os.path.join(self.dir, name), "r", encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {}

    def write_json(self, name, data):
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True, ensure_ascii=False)
            handle.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)

    def write_env(self, info):
        values = [
            ("PHOTOSYNC_DC_DIR", self.dir),
            ("PHOTOSYNC_DC_SERVER", info["server"]),
            ("PHOTOSYNC_DC_PORT", str(info["ldaps_port"])),
            ("PHOTOSYNC_DC_LDAP_PORT", str(info["ldap_port"])),
            ("PHOTOSYNC_DC_CA_CERT", info["ca_cert"]),
            ("PHOTOSYNC_DC_BASE_DN", info["base_dn"]),
            ("PHOTOSYNC_DC_REALM", info["realm"]),
            ("PHOTOSYNC_DC_DOMAIN", info["netbios_domain"]),
            ("PHOTOSYNC_DC_USERNAME", info["admin"]["username"]),
            ("PHOTOSYNC_DC_PASSWORD", info["admin"]["password"]),
            ("PHOTOSYNC_DC_DELEGATE_USERNAME", info["delegate"]["username"]),
            ("PHOTOSYNC_DC_DELEGATE_PASSWORD", info["delegate"]["password"]),
            ("PHOTOSYNC_DC_STAFF_OU", info["ous"]["staff"]),
            ("PHOTOSYNC_DC_USER_PASSWORD", info["user_password"]),
        ]
        if info.get("krb5_conf"):
            values.append(("KRB5_CONFIG", info["krb5_conf"]))
        path = os.path.join(self.dir, "env")
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.write("# photosync test DC: eval \"$(tests/support/samba-dc env)\"\n")
            for key, value in values:
                handle.write("export %s=%s\n" % (key, shlex.quote(value)))
        os.replace(path + ".tmp", path)

    # -- bulk
    def bulk(self, count, workers):
        t0 = time.time()
        conn = self.connect()
        self.ensure_ou(conn, "bulk")
        width = max(4, len(str(count)))
        wanted = {}
        for i in range(1, count + 1):
            sam = "bulk%0*d" % (width, i)
            wanted[sam] = make_jpeg(sam, 96, 96) if i % 2 == 1 else None
        existing = {}
        for entry in conn.extend.standard.paged_search(
                self.ous["bulk"], "(&(objectClass=user)(sAMAccountName=bulk*))", search_scope=ldap3.LEVEL,
                attributes=["sAMAccountName", "thumbnailPhoto"], paged_size=500, generator=True):
            if entry.get("type") != "searchResEntry":
                continue
            raw = entry["raw_attributes"]
            existing[raw["sAMAccountName"][0].decode("utf-8")] = (entry["dn"], (raw.get("thumbnailPhoto") or [None])[0])
        conn.unbind()
        todo = [sam for sam in wanted if sam not in existing or existing[sam][1] != wanted[sam]]
        errors = []

        def work(chunk):
            try:
                c = self.connect()
                for sam in chunk:
                    dn = "CN=%s,%s" % (sam, self.ous["bulk"])
                    photo = wanted[sam]
                    if sam in existing:
                        c.modify(existing[sam][0], {"thumbnailPhoto": [(MODIFY_REPLACE, [photo] if photo else [])]})
                    else:
                        attrs = {"sAMAccountName": sam, "givenName": "Bulk", "sn": sam, "displayName": "Bulk %s" % sam,
                                 "mail": "%s@%s" % (sam, self.dns_domain),
                                 "userPrincipalName": "%s@%s" % (sam, self.dns_domain)}
                        if photo:
                            attrs["thumbnailPhoto"] = photo
                        c.add(dn, ["top", "person", "organizationalPerson", "user"], attrs)
                c.unbind()
            except LDAPException as exc:
                errors.append(exc)

        workers = max(1, min(workers, len(todo)))
        threads = [threading.Thread(target=work, args=(todo[i::workers],)) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise SystemExit("seed_dc: bulk seeding failed: %s" % errors[0])
        users = {}
        for sam, photo in wanted.items():
            facts = photo_facts(photo)
            users[sam] = dict(dn=existing[sam][0] if sam in existing else "CN=%s,%s" % (sam, self.ous["bulk"]),
                              has_photo=facts["has_photo"], photo_sha256=facts["photo_sha256"])
        self.write_json("bulk.json", {"ou": self.ous["bulk"], "count": count, "users": users})
        info = self.load_json("dc.json")
        if info:
            info["bulk"] = {"ou": self.ous["bulk"], "count": count,
                            "with_photo": sum(1 for p in wanted.values() if p), "file": os.path.join(self.dir, "bulk.json")}
            self.write_json("dc.json", info)
        log("bulk: %d users in %s (%d written, %d already right) in %.1f s" % (
            count, self.ous["bulk"], len(todo), count - len(todo), time.time() - t0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default=os.environ.get("PHOTOSYNC_DC_DIR", "/tmp/photosync-dc"))
    parser.add_argument("--server", default="127.0.0.1")
    parser.add_argument("--realm", default="EXAMPLE.TEST")
    parser.add_argument("--domain", default="EXAMPLE")
    parser.add_argument("--host-name", default="dc1")
    parser.add_argument("--admin-password-file")
    parser.add_argument("--bulk", type=int, metavar="N", help="add bulk0001..bulkN in OU=Bulk (only)")
    parser.add_argument("--workers", type=int, default=4, help="connections used by --bulk")
    args = parser.parse_args(argv)
    if not args.admin_password_file:
        args.admin_password_file = os.path.join(args.dir, "private", "admin-password")
    seeder = Seeder(args)
    try:
        if args.bulk is not None:
            if args.bulk < 1:
                parser.error("--bulk needs N >= 1")
            seeder.bulk(args.bulk, args.workers)
        else:
            seeder.seed()
    except LDAPException as exc:
        raise SystemExit("seed_dc: LDAP error: %s: %s" % (type(exc).__name__, exc))


if __name__ == "__main__":
    main()
