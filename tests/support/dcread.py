#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Independent reader (and raw writer) for the throwaway test DC.

Tests verify what the collection wrote with this module, which shells out to OpenLDAP's
``ldapsearch``/``ldapmodify`` (package ldap-utils) and parses their LDIF itself: no ldap3, no
collection code, so a bug there cannot confirm itself.  Certificates are validated against the
test CA (``LDAPTLS_CACERT``, ``LDAPTLS_REQCERT=demand``).

API::

    load_dc_info(path=None) -> dict             # $PHOTOSYNC_DC_DIR/dc.json (default /tmp/photosync-dc)
    read_values(dn, attribute, dc_info=None, bind=None) -> [bytes, ...]   # [] when not set
    read_photo(dn, attribute="thumbnailPhoto", dc_info=None, bind=None) -> bytes | None
    read_entry(dn, attributes, dc_info=None, bind=None) -> {attribute: [bytes, ...]}
    write_photo_raw(dn, data, attribute="thumbnailPhoto", dc_info=None, bind=None)
    clear_photo_raw(dn, attribute="thumbnailPhoto", dc_info=None, bind=None)
    search_dns(base, ldap_filter, scope="sub", dc_info=None, bind=None) -> [dn, ...]   # paged (500 a page)

``bind`` is ``(name, password)``; default: the Administrator from dc.json.  Errors raise
``DcReadError`` (``.returncode`` is ldapsearch's exit code = the LDAP result code, e.g. 32
noSuchObject, 49 invalidCredentials, 50 insufficientAccessRights).

CLI (for playbooks)::

    python tests/support/dcread.py DN [ATTRIBUTE]
    -> {"dn": ..., "attribute": ..., "present": true, "sha256": "...", "bytes": 1234, "values": 1}
"""

from __future__ import absolute_import, division, print_function

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

DEFAULT_DIR = "/tmp/photosync-dc"
_ATTR_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*$")


class DcReadError(Exception):
    def __init__(self, message, returncode=None, stderr=""):
        super(DcReadError, self).__init__(message)
        self.returncode = returncode
        self.stderr = stderr


def dc_dir():
    return os.environ.get("PHOTOSYNC_DC_DIR") or DEFAULT_DIR


def load_dc_info(path=None):
    """The seeded DC's facts (dc.json written by seed_dc.py)."""
    path = path or os.path.join(dc_dir(), "dc.json")
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise DcReadError("cannot read %s (%s): run tests/support/samba-dc start" % (path, exc))


# ------------------------------------------------------------------ LDIF
def parse_ldif(text):
    """Parse LDIF (as printed by ldapsearch) into [(dn, {attr_lower: [bytes, ...]})].

    Handles continuation lines (a line starting with one space continues the previous one),
    base64 values (``attr:: ``), base64 DNs (``dn:: ``) and comments.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    # unfold
    lines = []
    for line in text.splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    entries = []
    dn, attrs = None, {}
    for line in lines + [""]:
        if not line.strip():
            if dn is not None:
                entries.append((dn, attrs))
            dn, attrs = None, {}
            continue
        if line.startswith("#"):
            continue
        if ":" not in line:
            raise DcReadError("unexpected LDIF line: %r" % line[:80])
        name, rest = line.split(":", 1)
        if rest.startswith(":"):
            value = base64.b64decode(rest[1:].strip())
        elif rest.startswith("<"):
            raise DcReadError("LDIF URL values are not supported: %r" % line[:80])
        else:
            value = rest[1:].encode("utf-8") if rest.startswith(" ") else rest.encode("utf-8")
        if name.lower() == "dn":
            dn = value.decode("utf-8")
        elif name.lower() in ("search", "result"):
            continue  # ldapsearch trailer without -LLL
        else:
            attrs.setdefault(name.split(";", 1)[0].lower(), []).append(value)
    return entries


def _ldif_line(name, value):
    """name:: base64, folded at 76 columns."""
    line = "%s:: %s" % (name, base64.b64encode(value).decode("ascii"))
    out = [line[:76]]
    rest = line[76:]
    while rest:
        out.append(" " + rest[:75])
        rest = rest[75:]
    return "\n".join(out)


# ------------------------------------------------------------------ tools
def _uri(info):
    host = info["server"]
    if ":" in host:
        host = "[%s]" % host
    return "ldaps://%s:%d" % (host, info["ldaps_port"])


def _run(tool, args, info, bind, stdin=None):
    name, password = bind or (info["admin"]["username"], info["admin"]["password"])
    env = dict(os.environ)
    env.pop("LDAPNOINIT", None)
    env["LDAPTLS_CACERT"] = info["ca_cert"]
    env["LDAPTLS_REQCERT"] = "demand"
    fd, pwfile = tempfile.mkstemp(prefix="dcread-")
    try:
        os.write(fd, password.encode("utf-8"))  # -y reads the whole file: no newline
        os.close(fd)
        cmd = [tool, "-x", "-H", _uri(info), "-D", name, "-y", pwfile, "-o", "nettimeout=10"] + args
        try:
            proc = subprocess.run(cmd, check=False, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env, timeout=60)
        except OSError as exc:
            raise DcReadError("cannot run %s (%s): install ldap-utils" % (tool, exc))
    finally:
        os.unlink(pwfile)
    return proc


def read_entry(dn, attributes, dc_info=None, bind=None):
    """{attribute_lower: [bytes, ...]} of one entry (base search)."""
    info = dc_info or load_dc_info()
    for attr in attributes:
        if not _ATTR_RE.match(attr):
            raise ValueError("bad attribute name %r" % attr)
    proc = _run("ldapsearch", ["-LLL", "-b", dn, "-s", "base", "(objectClass=*)"] + list(attributes), info, bind)
    if proc.returncode != 0:
        raise DcReadError("ldapsearch of %s failed (exit %d): %s" % (dn, proc.returncode,
                          proc.stderr.decode("utf-8", "replace").strip()), proc.returncode,
                          proc.stderr.decode("utf-8", "replace"))
    entries = parse_ldif(proc.stdout)
    if len(entries) != 1:
        raise DcReadError("ldapsearch of %s returned %d entries" % (dn, len(entries)))
    return entries[0][1]


def read_values(dn, attribute, dc_info=None, bind=None):
    """All values of one attribute of one entry, as bytes ([] when not set)."""
    return read_entry(dn, [attribute], dc_info=dc_info, bind=bind).get(attribute.split(";", 1)[0].lower(), [])


def read_photo(dn, attribute="thumbnailPhoto", dc_info=None, bind=None):
    values = read_values(dn, attribute, dc_info=dc_info, bind=bind)
    if len(values) > 1:
        raise DcReadError("%s has %d values of %s; expected at most one" % (dn, len(values), attribute))
    return values[0] if values else None


def search_dns(base, ldap_filter, scope="sub", dc_info=None, bind=None, page_size=500):
    """The DNs of every entry ``ldap_filter`` matches below ``base``, read with ldapsearch's own
    paging (``-E pr=N/noprompt``), so counts do not depend on the collection's paging code."""
    info = dc_info or load_dc_info()
    if scope not in ("base", "one", "sub"):
        raise ValueError("bad scope %r" % scope)
    proc = _run("ldapsearch", ["-LLL", "-E", "pr=%d/noprompt" % page_size, "-b", base, "-s", scope,
                               ldap_filter, "1.1"], info, bind)
    if proc.returncode != 0:
        raise DcReadError("ldapsearch below %s failed (exit %d): %s" % (
            base, proc.returncode, proc.stderr.decode("utf-8", "replace").strip()),
            proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return [dn for dn, dummy in parse_ldif(proc.stdout)]


def _modify(dn, attribute, values, dc_info, bind):
    info = dc_info or load_dc_info()
    if not _ATTR_RE.match(attribute):
        raise ValueError("bad attribute name %r" % attribute)
    ldif = [_ldif_line("dn", dn.encode("utf-8")), "changetype: modify", "replace: %s" % attribute]
    ldif += [_ldif_line(attribute, v) for v in values]
    ldif += ["-", ""]
    proc = _run("ldapmodify", [], info, bind, stdin="\n".join(ldif).encode("ascii"))
    if proc.returncode != 0:
        raise DcReadError("ldapmodify of %s (%s) failed (exit %d): %s" % (
            dn, attribute, proc.returncode, proc.stderr.decode("utf-8", "replace").strip()),
            proc.returncode, proc.stderr.decode("utf-8", "replace"))


def write_photo_raw(dn, data, attribute="thumbnailPhoto", dc_info=None, bind=None):
    """Set the attribute to exactly these bytes (replace), with ldapmodify."""
    _modify(dn, attribute, [bytes(data)], dc_info, bind)


def clear_photo_raw(dn, attribute="thumbnailPhoto", dc_info=None, bind=None):
    """Remove the attribute (replace with no values; succeeds when it is not set)."""
    _modify(dn, attribute, [], dc_info, bind)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or len(argv) > 2:
        sys.stderr.write("usage: dcread.py DN [ATTRIBUTE]   (default attribute: thumbnailPhoto)\n")
        return 2
    dn = argv[0]
    attribute = argv[1] if len(argv) > 1 else "thumbnailPhoto"
    try:
        values = read_values(dn, attribute)
    except DcReadError as exc:
        sys.stderr.write("dcread: %s\n" % exc)
        return 1
    first = values[0] if values else None
    print(json.dumps({
        "dn": dn,
        "attribute": attribute,
        "present": bool(values),
        "values": len(values),
        "sha256": hashlib.sha256(first).hexdigest() if first is not None else None,
        "bytes": len(first) if first is not None else 0,
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
