# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The directory layer: connection options, binding, finding people, reading and
writing their photo.

One option family is defined here once: ``ldap_connection_spec()`` is paired with
the doc fragment ``plugins/doc_fragments/ldap.py`` (keep the two in step).

Nothing here talks to the network until ``Directory.connect()`` is called, and
every failure leaves as a domain exception from ``_errors`` with a hint that
says what to do about it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import os
import re
import socket
import ssl
import struct
import uuid

from ansible.module_utils.basic import env_fallback

from ansible_collections.photosync.ad.plugins.module_utils import _errors
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser

try:
    import ldap3
    from ldap3.core import exceptions as ldap3_exceptions
    from ldap3.utils.conv import escape_filter_chars, escape_bytes
    HAS_LDAP3 = True
    LDAP3_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by the sanity import test
    import traceback
    HAS_LDAP3 = False
    LDAP3_IMPORT_ERROR = traceback.format_exc()


# thumbnailPhoto's rangeUpper in the AD schema.
THUMBNAIL_PHOTO_MAX_BYTES = 102400
PHOTO_ATTRIBUTES = ("thumbnailPhoto", "jpegPhoto")

# Attribute ids (ATTRTYP) used in replPropertyMetaData: prefix-table index << 16 | last arc.
# 2.16.840.1.113730.3.1 is index 0x16, 0.9.2342.19200300.100.1 is index 0x15.
_ATTIDS = {
    "thumbnailphoto": 0x00160023,
    "jpegphoto": 0x0015003C,
}

USER_ATTRIBUTES = [
    "distinguishedName", "sAMAccountName", "userPrincipalName", "mail",
    "objectGUID", "objectSid", "displayName", "userAccountControl",
]

IDENTITY_TYPES = ("auto", "dn", "objectGUID", "objectSid", "sAMAccountName", "userPrincipalName", "mail")

# People, not computers (computers are objectClass=user in AD too).  inetOrgPerson
# keeps OpenLDAP directories (jpegPhoto only) usable.
PERSON_FILTER = "(&(|(objectClass=user)(objectClass=inetOrgPerson))(!(objectClass=computer)))"

_AD_BIND_SUBCODES = {
    "525": "the user does not exist",
    "52e": "the password is wrong",
    "530": "the account may not log on at this time",
    "531": "the account may not log on from this workstation",
    "532": "the password has expired",
    "533": "the account is disabled",
    "701": "the account has expired",
    "773": "the password must be changed before first logon",
    "775": "the account is locked out",
}

# C0 and C1 control characters and DEL: never part of a name; Samba cuts a value at NUL.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
_GUID_RE = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
_SID_RE = re.compile(r"^S-1-\d+(-\d+)+$", re.IGNORECASE)
_DN_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*=.+,\s*[A-Za-z][A-Za-z0-9-]*=", re.DOTALL)


def ldap_connection_spec():
    """Argument spec of the LDAP connection options.

    Paired one-to-one with the doc fragment ``photosync.ad.ldap``
    (plugins/doc_fragments/ldap.py): change both together.
    """
    return dict(
        server=dict(type="list", elements="str", fallback=(env_fallback, ["PHOTOSYNC_LDAP_SERVER"])),
        port=dict(type="int", fallback=(env_fallback, ["PHOTOSYNC_LDAP_PORT"])),
        tls_mode=dict(type="str", default="ldaps", choices=["ldaps", "start_tls", "none"],
                      fallback=(env_fallback, ["PHOTOSYNC_LDAP_TLS_MODE"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["PHOTOSYNC_LDAP_VALIDATE_CERTS"])),
        ca_cert=dict(type="path", fallback=(env_fallback, ["PHOTOSYNC_LDAP_CA_CERT"])),
        auth_protocol=dict(type="str", default="simple", choices=["simple", "kerberos", "certificate"],
                           fallback=(env_fallback, ["PHOTOSYNC_LDAP_AUTH_PROTOCOL"])),
        kerberos_hostname_override=dict(type="str",
                                        fallback=(env_fallback, ["PHOTOSYNC_LDAP_KERBEROS_HOSTNAME_OVERRIDE"])),
        username=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_LDAP_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["PHOTOSYNC_LDAP_PASSWORD"])),
        client_cert=dict(type="path", fallback=(env_fallback, ["PHOTOSYNC_LDAP_CLIENT_CERT"])),
        client_key=dict(type="path", no_log=False, fallback=(env_fallback, ["PHOTOSYNC_LDAP_CLIENT_KEY"])),
        allow_plaintext=dict(type="bool", default=False),
        connect_timeout=dict(type="int", default=10),
        timeout=dict(type="int", default=60),
        search_base=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_LDAP_SEARCH_BASE"])),
        allow_any_object_dn=dict(type="bool", default=False),
    )


class ConnectionSettings(object):
    """Validated connection options.  Building one does no I/O."""

    def __init__(self, server, port=None, tls_mode="ldaps", validate_certs=True, ca_cert=None,
                 auth_protocol="simple", username=None, password=None, client_cert=None, client_key=None,
                 allow_plaintext=False, connect_timeout=10, timeout=60, search_base=None,
                 kerberos_hostname_override=None, allow_any_object_dn=False):
        if not server:
            raise _errors.ConfigurationError(
                "no LDAP server given",
                hint="Set the server option (or PHOTOSYNC_LDAP_SERVER), e.g. server: dc1.example.com")
        self.servers = [s.strip() for s in (server if isinstance(server, (list, tuple)) else [server]) if s.strip()]
        self.tls_mode = tls_mode
        self.port = port or (636 if tls_mode == "ldaps" else 389)
        self.validate_certs = validate_certs
        self.ca_cert = ca_cert
        self.auth_protocol = auth_protocol
        self.username = username
        self.password = password
        self.client_cert = client_cert
        self.client_key = client_key
        self.allow_plaintext = allow_plaintext
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.search_base = search_base
        self.kerberos_hostname_override = (kerberos_hostname_override or "").strip() or None
        self.allow_any_object_dn = allow_any_object_dn
        self._check()

    @classmethod
    def from_params(cls, params):
        if not params.get("server"):
            raise _errors.ConfigurationError(
                "no directory server given",
                hint="Set server (for example in module_defaults for group/photosync.ad.ldap) or the "
                     "PHOTOSYNC_LDAP_SERVER environment variable")
        names = ldap_connection_spec().keys()
        return cls(**dict((name, params.get(name)) for name in names if params.get(name) is not None))

    def _check(self):
        self._check_uri_schemes()
        if self.auth_protocol == "simple":
            if not self.username and not self.password:
                # An anonymous bind "works" and then every search fails with operationsError: say it now.
                raise _errors.ConfigurationError(
                    "no username given, so the bind would be anonymous, and Active Directory refuses anonymous "
                    "searches",
                    hint="Set username and password (or PHOTOSYNC_LDAP_USERNAME / PHOTOSYNC_LDAP_PASSWORD, or "
                         "module_defaults for group/photosync.ad.ldap)")
            if bool(self.username) != bool(self.password):
                raise _errors.ConfigurationError(
                    "username and password must be given together for a simple bind",
                    hint="Set both")
            if self.tls_mode == "none" and self.username and not self.allow_plaintext:
                # Refused before any bind: the password would cross the network in clear text.
                raise _errors.ConfigurationError(
                    "refusing a simple bind without TLS: the password would be sent in clear text",
                    hint="Use tls_mode=ldaps (default) or tls_mode=start_tls; set allow_plaintext=true "
                         "only for a lab directory you do not care about")
        elif self.auth_protocol == "kerberos":
            if self.password and not self.username:
                raise _errors.ConfigurationError(
                    "auth_protocol=kerberos with a password needs username (the principal to get a ticket for)",
                    hint="Set username (e.g. svc-photos@EXAMPLE.COM), or leave password out to use the ticket "
                         "cache (kinit) or a keytab")
        elif self.auth_protocol == "certificate":
            if not self.client_cert:
                raise _errors.ConfigurationError(
                    "auth_protocol=certificate needs client_cert (and client_key unless the key is in the same file)")
            if self.tls_mode == "none":
                raise _errors.ConfigurationError("auth_protocol=certificate needs tls_mode ldaps or start_tls")

    def _check_uri_schemes(self):
        """A server given as a URI must agree with tls_mode: the scheme says what the first byte on the
        wire is, and a disagreement decided silently either way could send a password in clear text."""
        for entry in self.servers:
            scheme = _uri_scheme(entry)
            if scheme == "ldaps" and self.tls_mode != "ldaps":
                raise _errors.ConfigurationError(
                    "server %s is an ldaps:// URI (TLS from the first byte), but tls_mode is %s" % (
                        entry, self.tls_mode),
                    hint="Leave tls_mode at ldaps (the default) for ldaps:// servers, or give the server as "
                         "ldap://host with tls_mode=start_tls")
            if scheme == "ldap" and self.tls_mode == "ldaps":
                raise _errors.ConfigurationError(
                    "server %s is an ldap:// URI (no TLS when connecting), but tls_mode is ldaps (the default)" %
                    entry,
                    hint="Set tls_mode=start_tls to upgrade the ldap:// connection with StartTLS before the bind "
                         "(port 389), or write the server as ldaps://host or a plain host name for LDAPS (port "
                         "636). Only tls_mode=none with allow_plaintext=true binds without TLS, and then the "
                         "password crosses the network in clear text")


def _uri_scheme(server):
    """'ldap' or 'ldaps' for a server written as a URI, else None."""
    m = re.match(r"^\s*(ldaps?)://", server, re.IGNORECASE)
    return m.group(1).lower() if m else None


def _split_host_port(server, default_port):
    """``host``, ``host:port``, ``[v6]:port`` or an ldap(s):// URI -> (host, port, scheme or None)."""
    scheme = None
    m = re.match(r"^(ldaps?)://(.*?)/?$", server, re.IGNORECASE)
    if m:
        scheme, server = m.group(1).lower(), m.group(2)
    if server.startswith("["):
        host, dummy, rest = server[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else default_port
        return host, port, scheme
    if server.count(":") == 1:
        host, port = server.split(":")
        return host, int(port), scheme
    return server, default_port, scheme


def escape_filter_value(value):
    """Escape a string for use inside an LDAP filter assertion (RFC 4515)."""
    return escape_filter_chars(value)


def guid_filter_value(guid_text):
    return escape_bytes(uuid.UUID(guid_text).bytes_le)


def sid_to_bytes(sid_text):
    parts = sid_text.upper().split("-")
    revision, authority = int(parts[1]), int(parts[2])
    subs = [int(x) for x in parts[3:]]
    return struct.pack("<BB", revision, len(subs)) + struct.pack(">Q", authority)[2:] + \
        b"".join(struct.pack("<I", s) for s in subs)


def sid_from_bytes(data):
    if not data or len(data) < 8:
        return None
    revision, count = data[0], data[1]
    authority = struct.unpack(">Q", b"\0\0" + data[2:8])[0]
    subs = struct.unpack("<%dI" % count, data[8:8 + 4 * count])
    return "S-%d-%d%s" % (revision, authority, "".join("-%d" % s for s in subs))


def guid_from_bytes(data):
    return str(uuid.UUID(bytes_le=bytes(data))) if data and len(data) == 16 else None


def check_identity(identity):
    """Refuse an identity that can never name anyone: empty, or with a control character.

    A NUL matters most: Samba cuts a value at NUL, so ``alice\x00bob`` would find alice.
    """
    if identity is None or not str(identity).strip():
        raise _errors.ConfigurationError("an identity is empty", hint="Remove the empty entry or fill it in")
    if _CONTROL_RE.search(identity):
        raise _errors.ConfigurationError(
            "the identity %s contains a control character; no name in the directory does" % ascii(identity),
            hint="Check where the value comes from (a stray NUL, newline or escape sequence); give the name "
                 "without it")
    return identity


def split_domain_prefix(text):
    """``DOMAIN\\user`` -> ('DOMAIN', 'user'); anything else -> (None, text)."""
    if "\\" in text:
        domain, dummy, name = text.partition("\\")
        return domain.strip(), name.strip()
    return None, text


def classify_identity(identity):
    """Which attribute an identity most likely names, for identity_type=auto."""
    check_identity(identity)
    text = identity.strip()
    if _GUID_RE.match(text):
        return "objectGUID"
    if _SID_RE.match(text):
        return "objectSid"
    if _DN_RE.match(text):
        return "dn"
    if "@" in text:
        return "userPrincipalName_or_mail"
    return "sAMAccountName"


def identity_filter(identity, identity_type="auto"):
    """The escaped LDAP filter that finds ``identity``; None for a DN (read by base search)."""
    check_identity(identity)
    kind = classify_identity(identity) if identity_type == "auto" else identity_type
    text = identity.strip()
    if kind == "dn":
        return None
    if kind == "objectGUID":
        m = _GUID_RE.match(text)
        if not m:
            raise _errors.ConfigurationError("%r is not a GUID" % identity)
        value = "(objectGUID=%s)" % guid_filter_value(m.group(1))
    elif kind == "objectSid":
        if not _SID_RE.match(text):
            raise _errors.ConfigurationError("%r is not a SID (S-1-5-21-...)" % identity)
        value = "(objectSid=%s)" % escape_bytes(sid_to_bytes(text))
    elif kind == "userPrincipalName_or_mail":
        value = "(|(userPrincipalName=%s)(mail=%s))" % (escape_filter_value(text), escape_filter_value(text))
    elif kind == "sAMAccountName":
        # DOMAIN\user is how people write it; the domain part is not in sAMAccountName (it is
        # checked against the directory's NetBIOS name by Directory.resolve).
        text = split_domain_prefix(text)[1]
        value = "(sAMAccountName=%s)" % escape_filter_value(text)
    elif kind in ("userPrincipalName", "mail"):
        value = "(%s=%s)" % (kind, escape_filter_value(text))
    else:
        raise _errors.ConfigurationError("unknown identity_type %r" % identity_type)
    return "(&%s%s)" % (PERSON_FILTER, value)


def parse_repl_property_metadata(blob):
    """Decode a ``replPropertyMetaData`` value into {attid: entry}.

    Layout (little-endian): uint32 version (1), uint32 reserved, uint32 count,
    uint32 reserved, then ``count`` 48-byte entries: uint32 attid, uint32 version,
    uint64 originating change time (seconds since 1601-01-01 UTC), 16-byte
    originating invocation id, int64 originating USN, int64 local USN.
    """
    if not blob or len(blob) < 16:
        return {}
    version, _reserved, count, _reserved2 = struct.unpack_from("<IIII", blob, 0)
    if version != 1 or len(blob) < 16 + 48 * count:
        return {}
    result = {}
    epoch = datetime.datetime(1601, 1, 1)
    for i in range(count):
        attid, attr_version, change_time, invocation, orig_usn, local_usn = struct.unpack_from(
            "<IIQ16sqq", blob, 16 + 48 * i)
        changed = epoch + datetime.timedelta(seconds=change_time)
        result[attid] = dict(
            version=attr_version,
            changed=changed.strftime("%Y-%m-%dT%H:%M:%SZ"),
            originating_invocation_id=str(uuid.UUID(bytes_le=invocation)),
            originating_usn=orig_usn,
            local_usn=local_usn,
        )
    return result


def _first(entry_attrs, name):
    value = entry_attrs.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


class Directory(object):
    """A connection to one directory, opened lazily by ``connect()``.

    Use as a context manager::

        with Directory(ConnectionSettings.from_params(params)) as directory:
            user = directory.resolve("alice")
            photo = directory.read_photo(user.dn)
    """

    def __init__(self, settings):
        self.settings = settings
        self.connection = None
        self.server_used = None
        self._root_dse = None
        self._dc_names = {}

    # --- connecting -------------------------------------------------------

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self.connection is not None:
            try:
                self.connection.unbind()
            except Exception:  # pylint: disable=broad-except
                # Closing a broken socket must never hide the error that broke it.
                pass
            self.connection = None

    def _tls(self):
        s = self.settings
        if s.ca_cert:
            _check_pem_file(s.ca_cert, "ca_cert", ca=True)
        if s.auth_protocol == "certificate":
            _check_pem_file(s.client_cert, "client_cert")
            if s.client_key:
                _check_pem_file(s.client_key, "client_key")
        return ldap3.Tls(
            validate=ssl.CERT_REQUIRED if s.validate_certs else ssl.CERT_NONE,
            ca_certs_file=s.ca_cert,
            local_certificate_file=s.client_cert if s.auth_protocol == "certificate" else None,
            local_private_key_file=s.client_key if s.auth_protocol == "certificate" else None,
        )

    def connect(self):
        """Try each server in order; bind on the first that answers."""
        s = self.settings
        if not HAS_LDAP3:
            raise _errors.ConfigurationError("the ldap3 Python library is required")
        tls = self._tls()  # checks ca_cert & co. before any network I/O
        tried = []
        unresolved = []
        for entry in s.servers:
            host, port, dummy = _split_host_port(entry, s.port)
            # ConnectionSettings made sure a URI's scheme agrees with tls_mode.
            use_ssl = s.tls_mode == "ldaps"
            reason = _resolve_error(host, port)
            if reason:
                unresolved.append(host)
                tried.append("%s:%d (the name does not resolve: %s)" % (host, port, reason))
                continue
            server = ldap3.Server(host, port=port, use_ssl=use_ssl, tls=tls,
                                  connect_timeout=s.connect_timeout, get_info=ldap3.NONE)
            connection = self._new_connection(server)
            try:
                connection.open()
            except ldap3_exceptions.LDAPSocketOpenError as exc:
                reason = str(exc)
                if _looks_like_tls_failure(reason):
                    raise _errors.TLSFailure(
                        "TLS handshake with %s:%d failed: %s" % (host, port, _short_tls_reason(reason)),
                        hint="The server certificate could not be validated. Pass ca_cert with the CA that "
                             "issued it, and connect with a name that is in the certificate")
                tried.append("%s:%d (%s)" % (host, port, _short_socket_reason(reason)))
                continue
            except ldap3_exceptions.LDAPException as exc:
                tried.append("%s:%d (%s)" % (host, port, exc))
                continue
            _no_delay(connection)
            self.connection = connection
            self.server_used = "%s:%d" % (host, port)
            if s.tls_mode == "start_tls" and not use_ssl:
                self._start_tls(host, port)
            self._bind()
            return self
        if unresolved and len(unresolved) == len(tried):
            hint = ("This host cannot resolve %s: check the spelling, and that its DNS (/etc/resolv.conf) or "
                    "/etc/hosts knows the name; use the DC's fully qualified DNS name (the one in its "
                    "certificate), e.g. dc1.example.com" % ", ".join(unresolved))
        else:
            hint = "Check the server names, the port (636 for ldaps, 389 for start_tls) and firewalls"
            if unresolved:
                hint += "; DNS cannot resolve %s" % ", ".join(unresolved)
        raise _errors.ServerUnreachable("no LDAP server answered; tried %s" % ", ".join(tried), hint=hint)

    def _new_connection(self, server):
        s = self.settings
        kwargs = dict(receive_timeout=s.timeout, raise_exceptions=False, auto_referrals=False,
                      read_only=False, return_empty_attributes=False)
        if s.auth_protocol == "kerberos":
            _import_gssapi()
            # sasl_credentials = (service host, authorization id, credentials); the credentials are
            # acquired in _bind(), just before they are used.  No authorization id: the identity
            # is the ticket's principal.
            kwargs.update(authentication=ldap3.SASL, sasl_mechanism=ldap3.KERBEROS,
                          sasl_credentials=(s.kerberos_hostname_override, None, None))
        elif s.auth_protocol == "certificate":
            kwargs.update(authentication=ldap3.SASL, sasl_mechanism=ldap3.EXTERNAL)
        elif s.username:
            kwargs.update(user=s.username, password=s.password, authentication=ldap3.SIMPLE)
        else:
            kwargs.update(authentication=ldap3.ANONYMOUS)
        return ldap3.Connection(server, **kwargs)

    def _start_tls(self, host, port):
        try:
            ok = self.connection.start_tls()
        except ldap3_exceptions.LDAPException as exc:
            reason = str(exc)
            if _is_communication_error(exc) and not _looks_like_tls_failure(reason):
                raise self._connection_lost(exc, "asking for StartTLS", bound=False)
            if _looks_like_tls_failure(reason):
                raise _errors.TLSFailure(
                    "StartTLS with %s:%d failed: %s" % (host, port, _short_tls_reason(reason)),
                    hint="The server certificate could not be validated. Pass ca_cert with the CA that issued it")
            raise _errors.TLSFailure("StartTLS with %s:%d failed: %s" % (host, port, reason))
        if not ok:
            raise _errors.TLSFailure("StartTLS with %s:%d was refused: %s" % (
                host, port, self.connection.result.get("message") or self.connection.result.get("description")))

    def _kerberos_service(self):
        host = self.settings.kerberos_hostname_override or self.connection.server.host
        return "ldap/%s" % host

    def _kerberos_credentials(self):
        """Fresh GSSAPI initiator credentials for one bind.

        With a password: a ticket is requested from the KDC for ``username`` (nothing is written
        to the ticket cache).  Without: the ticket cache (KRB5CCNAME) or the client keytab
        (KRB5_CLIENT_KTNAME) of ``username``, or of the cache's default principal.  A new object
        per bind, because ldap3 takes over the credential handle it is given.
        """
        s = self.settings
        gssapi = _import_gssapi()
        principal = kerberos_principal(s.username)
        name = gssapi.Name(principal, gssapi.NameType.kerberos_principal) if principal else None
        try:
            if s.password:
                return gssapi.raw.acquire_cred_with_password(
                    name, _to_bytes(s.password), usage="initiate", mechs=[gssapi.MechType.kerberos]).creds
            return gssapi.Credentials(name=name, usage="initiate", mechs=[gssapi.MechType.kerberos])
        except gssapi.exceptions.GSSError as exc:
            raise self._kerberos_error(exc, principal, getting_ticket=bool(s.password))

    def _kerberos_error(self, exc, principal, getting_ticket=False):
        reason = _gss_reason(exc)
        meaning, hint = _kerberos_failure(reason, principal=principal, service=self._kerberos_service(),
                                          password_given=bool(self.settings.password))
        what = "getting a Kerberos ticket for %s" % principal if getting_ticket else \
            "Kerberos bind as %s to %s (service %s)" % (
                principal or "the ticket cache's principal", self.server_used, self._kerberos_service())
        return _errors.AuthenticationFailed("%s failed: %s (%s)" % (what, meaning, reason), hint=hint)

    def _bind(self):
        s = self.settings
        if s.auth_protocol == "kerberos":
            gssapi = _import_gssapi()
            self.connection.sasl_credentials = (s.kerberos_hostname_override, None, self._kerberos_credentials())
            try:
                ok = self.connection.bind()
            except gssapi.exceptions.GSSError as exc:
                raise self._kerberos_error(exc, kerberos_principal(s.username))
            except ldap3_exceptions.LDAPException as exc:
                if _is_communication_error(exc) and (_is_timeout(exc) or not self._server_answers()):
                    # The DC went away (or hangs): not a Kerberos problem, whatever the bind was.
                    raise self._connection_lost(exc, "the Kerberos bind as %s" % (
                        kerberos_principal(s.username) or "the ticket cache's principal"), bound=False)
                raise _errors.AuthenticationFailed(
                    "Kerberos bind to %s (service %s) failed: %s" % (self.server_used, self._kerberos_service(), exc),
                    hint="The server broke off the SASL GSSAPI exchange. Check that the DC offers GSSAPI "
                         "(supportedSASLMechanisms in its rootDSE) and use tls_mode=ldaps or start_tls")
            if not ok:
                self._raise_bind_failure(kerberos=True)
            return
        try:
            ok = self.connection.bind()
        except ldap3_exceptions.LDAPException as exc:
            reason = str(exc)
            if _looks_like_tls_failure(reason):
                raise _errors.TLSFailure("TLS failed during bind: %s" % _short_tls_reason(reason),
                                         hint="Pass ca_cert with the CA that issued the server certificate")
            who = "the client certificate %s" % s.client_cert if s.auth_protocol == "certificate" else \
                s.username or "(anonymous)"
            if _is_communication_error(exc):
                raise self._connection_lost(exc, "the bind as %s" % who, bound=False)
            raise _errors.AuthenticationFailed("bind as %s to %s failed: %s" % (who, self.server_used, reason))
        if ok:
            return
        self._raise_bind_failure()

    def _raise_bind_failure(self, kerberos=False):
        s = self.settings
        result = self.connection.result or {}
        code = result.get("result")
        message = result.get("message") or ""
        who = s.username or "(anonymous)"
        if s.auth_protocol == "certificate":
            who = "the client certificate %s" % s.client_cert
        if kerberos:
            who = kerberos_principal(s.username) or "the ticket cache's principal"
            if code == 8:
                if "sign or seal are required" in message.lower():
                    hint = ("The DC wants SASL signing even inside TLS, which ldap3 cannot do (Samba before "
                            "4.20 with its default 'ldap server require strong auth = yes'). On Samba set "
                            "'ldap server require strong auth = allow_sasl_over_tls' (what Windows DCs do), "
                            "or use auth_protocol=simple over LDAPS")
                else:
                    hint = ("Kerberos binds without SASL signing are only accepted inside TLS: use "
                            "tls_mode=ldaps (default) or tls_mode=start_tls")
                raise _errors.StrongerAuthRequired(
                    "%s refused the Kerberos bind as %s: %s" % (
                        self.server_used, who, message.strip() or "strongerAuthRequired"), hint=hint)
            raise _errors.AuthenticationFailed(
                "Kerberos bind as %s to %s failed: %s %s" % (
                    who, self.server_used, result.get("description"), message.strip()),
                hint="The KDC issued a ticket but the directory refused it: check that the account is "
                     "enabled and that %s is the DC's service principal" % self._kerberos_service())
        if code == 49:
            sub = re.search(r"data ([0-9a-fA-F]{3})", message)
            meaning = _AD_BIND_SUBCODES.get(sub.group(1).lower()) if sub else None
            raise _errors.AuthenticationFailed(
                "invalid credentials for %s on %s%s" % (
                    who, self.server_used, " (AD says: %s, code %s)" % (meaning, sub.group(1)) if meaning else ""),
                hint={
                    "52e": "Check the password (and the username: UPN, DN or DOMAIN\\user)",
                    "525": "Check the username: give a UPN (user@example.com), a DN or DOMAIN\\user",
                    "533": "Enable the account or use another one",
                    "775": "Wait for the lockout to expire or have an administrator unlock the account",
                    "532": "Set a new password for the account",
                    "773": "Set a new password for the account",
                    "701": "Extend the account's expiry date",
                }.get(sub.group(1).lower() if sub else "", "Check the username and password"))
        if code == 8:
            raise _errors.StrongerAuthRequired(
                "%s refused the bind: %s" % (self.server_used, message.strip() or "strongerAuthRequired"),
                hint="Use tls_mode=ldaps (port 636) or tls_mode=start_tls")
        raise _errors.AuthenticationFailed(
            "bind as %s to %s failed: %s %s" % (who, self.server_used, result.get("description"), message.strip()))

    # --- reading ----------------------------------------------------------

    def root_dse(self):
        if self._root_dse is None:
            self._search("", "(objectClass=*)", ldap3.BASE,
                         ["defaultNamingContext", "configurationNamingContext", "dnsHostName",
                          "dsServiceName", "rootDomainNamingContext", "supportedCapabilities"])
            entries = self.connection.response or []
            attrs = entries[0]["attributes"] if entries and entries[0].get("type") == "searchResEntry" else {}
            self._root_dse = dict((k, attrs[k] if k == "supportedCapabilities" else _first(attrs, k)) for k in attrs)
        return self._root_dse

    def is_active_directory(self):
        """True for Windows AD and Samba AD DCs (they announce LDAP_CAP_ACTIVE_DIRECTORY_OID)."""
        return "1.2.840.113556.1.4.800" in (self.root_dse().get("supportedCapabilities") or [])

    def check_write_access(self, dn, attribute, user=None):
        """Raise PermissionDenied, worded as a real write would be, if the bound account may not write
        ``attribute`` on ``dn``.  Check mode uses it so that it fails where the real run would.

        AD computes ``allowedAttributesEffective`` per object for the bound account; other
        directories have no such attribute, and then nothing is claimed either way.
        """
        if not self.is_active_directory():
            return
        allowed = [v.decode("utf-8", "replace").lower() for v in self.read_values(dn, "allowedAttributesEffective")]
        if attribute.lower() not in allowed:
            raise _directory_error(
                dict(result=50, description="insufficientAccessRights",
                     message="allowedAttributesEffective does not list %s for the bound account" % attribute),
                "writing %s of %s (check mode)" % (attribute, dn), user=user or dn,
                username=self.settings.username, attribute=attribute, dn=dn)

    def search_base(self):
        base = self.settings.search_base or self.root_dse().get("defaultNamingContext")
        if not base:
            raise _errors.ConfigurationError(
                "the server did not say its defaultNamingContext", hint="Set search_base")
        return base

    def netbios_domain(self):
        """The NetBIOS name of the directory's domain (EXAMPLE), for DOMAIN\\user claims."""
        dse = self.root_dse()
        config = dse.get("configurationNamingContext")
        if not config:
            return None
        self._search("CN=Partitions," + config,
                     "(&(objectClass=crossRef)(nCName=%s))" % escape_filter_value(dse.get("defaultNamingContext")),
                     ldap3.LEVEL, ["nETBIOSName"])
        for entry in self.connection.response or []:
            if entry.get("type") == "searchResEntry":
                return _first(entry["attributes"], "nETBIOSName")
        return None

    # --- talking to the server ------------------------------------------------

    @contextlib.contextmanager
    def _talking(self, action, user=None):
        """Every LDAP operation after the connection is open runs inside this: the one place where
        ldap3's exceptions (raised even with raise_exceptions=False for broken sockets, timeouts and
        bad filters) become domain errors that name the server, the operation and the user."""
        try:
            yield
        except ldap3_exceptions.LDAPInvalidFilterError as exc:
            raise _errors.ConfigurationError("%s: the LDAP filter is not valid: %s" % (action, exc), user=user,
                                             hint="Check the filter's parentheses and escaping (RFC 4515)")
        except (ldap3_exceptions.LDAPException, socket.error, ssl.SSLError) as exc:
            if _is_communication_error(exc):
                raise self._connection_lost(exc, action, user=user)
            raise _errors.DirectoryError("%s on %s failed: %s" % (action, self.server_used, exc), user=user)

    def _connection_lost(self, exc, action, user=None, bound=True):
        s = self.settings
        bound = "" if not bound else " (bound as %s)" % (
            s.username or ("the client certificate" if s.auth_protocol == "certificate" else "(anonymous)"))
        if _is_timeout(exc):
            return _errors.ConnectionLost(
                "%s did not answer within %d s (timeout) during %s%s" % (self.server_used, s.timeout, action, bound),
                user=user,
                hint="The domain controller is hung, overloaded, or a network path drops packets; raise timeout "
                     "if it is only slow. A write is one LDAP modify that the directory applies whole or not at "
                     "all: run the task again, it compares against what the directory holds then")
        return _errors.ConnectionLost(
            "lost the connection to %s during %s%s: %s" % (self.server_used, action, bound, _short_comm_reason(exc)),
            user=user,
            hint="The domain controller closed the connection or went away (restart, crash, idle timeout, a "
                 "firewall or load balancer cutting connections). A write is one LDAP modify that the "
                 "directory applies whole or not at all, so nothing is half-written: run the task again, it "
                 "compares against what the directory holds then")

    def _server_answers(self):
        """Whether the server still answers a fresh connection (an anonymous rootDSE read, a few seconds at
        most): tells a server that hung up on this bind on purpose from one that died or hangs."""
        probe = None
        try:
            probe = ldap3.Connection(self.connection.server, receive_timeout=min(self.settings.timeout, 5),
                                     raise_exceptions=False)
            probe.open()
            return bool(probe.search("", "(objectClass=*)", ldap3.BASE, attributes=["1.1"]))
        except (ldap3_exceptions.LDAPException, socket.error, ssl.SSLError, AttributeError):
            return False
        finally:
            if probe is not None:
                try:
                    probe.unbind()
                except Exception:  # pylint: disable=broad-except
                    pass

    def _search(self, base, ldap_filter, scope, attributes, paged_size=None, paged_cookie=None, user=None,
                action=None):
        with self._talking(action or "search of %s" % (base or "the rootDSE"), user=user):
            ok = self.connection.search(base, ldap_filter, search_scope=scope, attributes=attributes,
                                        paged_size=paged_size, paged_cookie=paged_cookie)
        if ok:
            return True
        result = self.connection.result or {}
        code = result.get("result")
        if code in (0, 32) and base:  # 32 noSuchObject: nothing there
            return False
        raise _directory_error(result, "search of %s" % (base or "the rootDSE"), user=user,
                               username=self.settings.username)

    def _entry_to_user(self, entry):
        attrs = entry.get("attributes", {})
        raw = entry.get("raw_attributes", {})
        return DirectoryUser(
            dn=entry.get("dn"),
            sam_account_name=_first(attrs, "sAMAccountName"),
            user_principal_name=_first(attrs, "userPrincipalName"),
            mail=_first(attrs, "mail"),
            object_guid=guid_from_bytes(_first(raw, "objectGUID")),
            object_sid=sid_from_bytes(_first(raw, "objectSid")),
            display_name=_first(attrs, "displayName"),
        )

    def _base_entries(self, dn, ldap_filter, attributes, user=None):
        found = self._search(dn, ldap_filter, ldap3.BASE, attributes, user=user,
                             action="read of %s" % dn)
        return [e for e in (self.connection.response or []) if e.get("type") == "searchResEntry"] if found else []

    def _check_domain_prefix(self, identity, kind):
        """``DOMAIN\\user`` must name this directory's domain; the prefix is not in sAMAccountName, so
        ignoring it would find a same-named user of this domain for another domain's name."""
        if kind != "sAMAccountName":
            return
        domain, name = split_domain_prefix(identity.strip())
        if domain is None:
            return
        ours = self.netbios_domain()
        if not ours:
            raise _errors.UserNotFound(
                "the identity names the domain %s, and this directory has no NetBIOS domain name to check it "
                "against" % domain, user=identity, hint="Give the name without the DOMAIN\\ prefix")
        if domain.lower() != ours.lower():
            raise _errors.UserNotFound(
                "the identity names the domain %s, but the directory at %s is the domain %s" % (
                    domain, self.server_used, ours),
                user=identity,
                hint="Connect to a DC of %s for that user, or write the name as %s\\%s if you mean this "
                     "domain's user" % (domain, ours, name))

    def resolve(self, identity, identity_type="auto"):
        """Find exactly one person; UserNotFound / AmbiguousIdentity otherwise.

        A DN is looked up with the same people-only filter as every other identity (a computer
        object is not a person) unless ``allow_any_object_dn`` is set.
        """
        check_identity(identity)
        kind = classify_identity(identity) if identity_type == "auto" else identity_type
        if kind == "dn":
            dn = identity.strip()
            any_object = self.settings.allow_any_object_dn
            entries = self._base_entries(dn, "(objectClass=*)" if any_object else PERSON_FILTER,
                                         USER_ATTRIBUTES, user=identity)
            if not entries:
                other = [] if any_object else self._base_entries(dn, "(objectClass=*)", ["objectClass"], user=identity)
                if other:
                    classes = [str(c) for c in (other[0].get("attributes", {}).get("objectClass") or [])]
                    raise _errors.UserNotFound(
                        "the DN names an object that is not a person (objectClass %s)" % (
                            ", ".join(classes[-2:]) or "unknown"),
                        user=identity,
                        hint="Photos are written to people only (users that are not computers, or "
                             "inetOrgPerson). Check the DN; set allow_any_object_dn=true only if you really "
                             "mean to give this object a photo")
                raise _errors.UserNotFound(
                    "no object has the DN %s (or the bound account may not read it)" % dn, user=None,
                    hint="Check the DN (copy it from the directory, e.g. distinguishedName in ADUC's Attribute "
                         "Editor) and that the bound account may read the object")
        else:
            self._check_domain_prefix(identity, kind)
            entries = list(self.find_entries(identity_filter(identity, identity_type), USER_ATTRIBUTES,
                                             user=identity))
        if not entries:
            raise _errors.UserNotFound(
                "no user matches %s %r under %s" % (kind, identity, self.search_base()),
                user=identity,
                hint="Check the spelling, the search_base, and that the bound account may read the user")
        if len(entries) > 1:
            raise _errors.AmbiguousIdentity(
                "%d objects match: %s" % (len(entries), "; ".join(e["dn"] for e in entries[:5])),
                user=identity,
                hint="Use a unique identity: a DN, objectGUID, or set identity_type (e.g. sAMAccountName)")
        return self._entry_to_user(entries[0])

    def find_entries(self, ldap_filter, attributes, search_base=None, scope="subtree", page_size=500, user=None):
        """Paged search; yields raw ldap3 entries (dicts with dn, attributes, raw_attributes)."""
        base = search_base or self.search_base()
        ldap_scope = {"subtree": ldap3.SUBTREE, "onelevel": ldap3.LEVEL, "base": ldap3.BASE}[scope]
        cookie = None
        while True:
            # Read the whole page - entries AND cookie - before yielding anything: ldap3 keeps only the
            # last operation's response/result, and the caller may run other operations in its loop.
            page, cookie = self._search_page(base, ldap_filter, ldap_scope, attributes, page_size, cookie, user)
            yield from page
            if not cookie:
                return

    def _search_page(self, base, ldap_filter, ldap_scope, attributes, page_size, cookie, user=None):
        """One page of a paged search: (entries, cookie for the next page or None)."""
        if not self._search(base, ldap_filter, ldap_scope, attributes, paged_size=page_size,
                            paged_cookie=cookie, user=user):
            return [], None
        entries = [e for e in (self.connection.response or []) if e.get("type") == "searchResEntry"]
        controls = (self.connection.result or {}).get("controls") or {}
        next_cookie = controls.get("1.2.840.113556.1.4.319", {}).get("value", {}).get("cookie")
        return entries, next_cookie or None

    def find_users(self, ldap_filter=None, search_base=None, scope="subtree", extra_attributes=()):
        """Yield (DirectoryUser, raw_attributes) for every person the filter matches."""
        combined = "(&%s%s)" % (PERSON_FILTER, _wrap_filter(ldap_filter)) if ldap_filter else PERSON_FILTER
        for entry in self.find_entries(combined, USER_ATTRIBUTES + list(extra_attributes), search_base, scope):
            yield self._entry_to_user(entry), entry.get("raw_attributes", {})

    def read_values(self, dn, attribute):
        """All values of ``attribute`` on ``dn`` as bytes (empty list when unset)."""
        if not self._search(dn, "(objectClass=*)", ldap3.BASE, [attribute], user=dn,
                            action="reading %s of %s" % (attribute, dn)):
            raise _errors.UserNotFound("the object %s does not exist (any more)" % dn, user=dn)
        for entry in self.connection.response or []:
            if entry.get("type") == "searchResEntry":
                raw = entry.get("raw_attributes", {})
                for key, values in raw.items():
                    if key.lower() == attribute.lower():
                        return [bytes(v) for v in values]
                return []
        raise _errors.UserNotFound("the object %s does not exist (any more)" % dn, user=dn)

    def read_photo(self, dn, attribute="thumbnailPhoto"):
        """The photo bytes, or None.  For multi-valued jpegPhoto, the first value."""
        values = self.read_values(dn, attribute)
        return values[0] if values else None

    def photo_change_metadata(self, dn, attribute="thumbnailPhoto"):
        """When and where ``attribute`` was last changed, from replPropertyMetaData; None if unknown."""
        values = self.read_values(dn, "replPropertyMetaData")
        if not values:
            return None
        entry = parse_repl_property_metadata(values[0]).get(_ATTIDS.get(attribute.lower()))
        if entry is None:
            return None
        entry = dict(entry)
        entry["originating_dc"] = self.dc_for_invocation_id(entry["originating_invocation_id"])
        return entry

    def dc_for_invocation_id(self, invocation_id):
        """The DNS name of the DC whose database has this invocation id (None if not found)."""
        if invocation_id in self._dc_names:
            return self._dc_names[invocation_id]
        name = None
        config = self.root_dse().get("configurationNamingContext")
        if config:
            flt = "(&(objectClass=nTDSDSA)(invocationId=%s))" % guid_filter_value(invocation_id)
            for entry in self.find_entries(flt, ["distinguishedName"], search_base="CN=Sites," + config):
                server_dn = entry["dn"].split(",", 1)[1]  # the NTDS Settings object sits under its server
                values = self.read_values(server_dn, "dNSHostName")
                name = values[0].decode("utf-8") if values else server_dn
                break
        self._dc_names[invocation_id] = name
        return name

    # --- writing ----------------------------------------------------------

    def swap_photo(self, dn, attribute, expected, new, force=False, user=None):
        """Replace ``expected`` (bytes, list of bytes, or None) with ``new`` (bytes or None) atomically.

        Without ``force`` this is a compare-and-swap: one modify deletes exactly the
        value(s) read earlier and adds the new one, so if another writer changed the
        attribute in between the server answers noSuchAttribute (or
        attributeOrValueExists) and we raise Conflict instead of clobbering it.
        """
        who = user or dn
        if new is not None and attribute.lower() == "thumbnailphoto" and len(new) > THUMBNAIL_PHOTO_MAX_BYTES:
            raise _errors.ValueTooLarge(
                "the photo is %d bytes; thumbnailPhoto holds at most %d" % (len(new), THUMBNAIL_PHOTO_MAX_BYTES),
                user=who, hint="Lower max_bytes (10240 is what Exchange Online accepts); a restored backup is "
                               "written as it was saved, so it cannot be shrunk")
        old_values = [] if expected is None else (list(expected) if isinstance(expected, list) else [expected])
        if force:
            changes = [(ldap3.MODIFY_REPLACE, [new] if new is not None else [])]
        else:
            changes = []
            if old_values:
                changes.append((ldap3.MODIFY_DELETE, old_values))
            if new is not None:
                changes.append((ldap3.MODIFY_ADD, [new]))
            if not changes:
                return
        with self._talking("writing %s of %s" % (attribute, dn), user=who):
            ok = self.connection.modify(dn, {attribute: changes})
        if ok:
            return
        result = self.connection.result or {}
        code = result.get("result")
        if not force and code in (16, 20):  # noSuchAttribute / attributeOrValueExists
            raise _errors.Conflict(
                "%s changed since it was read (another writer was faster)" % attribute,
                user=who,
                hint="Run again to reconcile against the new value, or set force=true to overwrite it")
        raise _directory_error(result, "writing %s of %s" % (attribute, dn), user=who,
                               username=self.settings.username, attribute=attribute, dn=dn,
                               size=len(new) if new is not None else None)


def _wrap_filter(ldap_filter):
    text = ldap_filter.strip()
    return text if text.startswith("(") else "(%s)" % text


def _looks_like_tls_failure(reason):
    lowered = reason.lower()
    return "certificate verify failed" in lowered or "certificate_verify_failed" in lowered or \
        "hostname" in lowered and "match" in lowered or "sslcertverificationerror" in lowered or \
        "doesn't match any name" in lowered


def _short_tls_reason(reason):
    if "doesn't match any name" in reason.lower():
        # ldap3's own name check prints the whole certificate dict: say which names it holds instead.
        names = re.findall(r"\('(?:DNS|IP Address)', '([^']+)'\)", reason)
        asked = re.search(r"doesn't match any name in \[([^\]]*)\]", reason)
        return "the certificate is for %s, not for %s" % (
            ", ".join(names) or "other names", asked.group(1) if asked else "the name connected to")
    m = re.search(r"(certificate verify failed[^(')\]]*|hostname [^(')\]]*)", reason, re.IGNORECASE)
    return m.group(1).strip() if m else reason


def _is_communication_error(exc):
    """ldap3's broken-socket family, its response timeout, and raw socket/TLS errors."""
    if HAS_LDAP3 and isinstance(exc, (ldap3_exceptions.LDAPCommunicationError,
                                      ldap3_exceptions.LDAPResponseTimeoutError,
                                      ldap3_exceptions.LDAPMaximumRetriesError)):
        return True
    return isinstance(exc, (socket.error, ssl.SSLError))


def _is_timeout(exc):
    text = str(exc).lower()
    return isinstance(exc, socket.timeout) or "timed out" in text or "timeout" in text


def _short_comm_reason(exc):
    text = str(exc)
    lowered = text.lower()
    if "session terminated by server" in lowered or "connection reset" in lowered or "broken pipe" in lowered:
        return "the server closed the connection (%s)" % text
    if "socket is closed" in lowered or "closed" in lowered:
        return "the connection was already closed (%s)" % text
    return text


def _resolve_error(host, port):
    """Why ``host`` does not resolve (text), or None when it does."""
    try:
        socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return exc.strerror or str(exc)
    except UnicodeError as exc:
        return "not a valid host name (%s)" % exc
    return None


def _no_delay(connection):
    """Turn Nagle's algorithm off on an open connection's socket.

    ldap3 leaves it on. Over TLS the bind request is a small segment sent right behind the
    handshake's last one, so the kernel holds it until the DC's delayed ACK: about 40 ms of
    waiting on every bind (measured against Samba: 50 ms bind with it, 5 ms without).
    """
    sock = getattr(connection, "socket", None)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError, ValueError):
        pass  # not a TCP socket (a test double, a closed socket): nothing to tune


def _check_pem_file(path, option, ca=False):
    """Refuse, before connecting, a certificate/key file that is missing or is not PEM."""
    where = ("Give the path on the host that runs the module (with delegate_to: localhost, the Ansible "
             "controller); relative paths resolve against that host's working directory, so prefer an "
             "absolute path")
    if not os.path.exists(path):
        raise _errors.ConfigurationError("%s %s does not exist" % (option, path), hint=where)
    if not os.path.isfile(path):
        raise _errors.ConfigurationError("%s %s is not a file" % (option, path), hint=where)
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 20)
    except (IOError, OSError) as exc:
        raise _errors.ConfigurationError("%s %s cannot be read: %s" % (option, path, exc),
                                         hint="Make the file readable by the user that runs the module")
    if not ca:
        if b"-----BEGIN " not in head:
            raise _errors.ConfigurationError(
                "%s %s is not a PEM file (no -----BEGIN line)" % (option, path),
                hint="Convert it: openssl x509 -inform der -in FILE -out cert.pem (a certificate), "
                     "openssl pkcs12 -in FILE.pfx -nodes -out both.pem (a .pfx)")
        return
    # A bare client context: create_default_context() would also load the system's CA store
    # (about 20 ms per task) just to check this one file.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        raise _errors.ConfigurationError(
            "ca_cert %s is not a PEM file with a CA certificate (%s)" % (path, getattr(exc, "reason", None) or exc),
            hint="ca_cert must be PEM (text starting with -----BEGIN CERTIFICATE-----). A DER (binary .cer/.crt, "
                 "as Windows exports it) converts with: openssl x509 -inform der -in FILE -out ca.pem")


def _short_socket_reason(reason):
    for needle, text in (("refused", "connection refused"), ("timed out", "timed out"),
                         ("Name or service not known", "unknown host"), ("No route", "no route to host")):
        if needle.lower() in reason.lower():
            return text
    return reason


def _directory_error(result, action, user=None, username=None, attribute=None, dn=None, size=None):
    code = result.get("result")
    message = (result.get("message") or "").strip()
    description = result.get("description")
    detail = "%s failed: %s (%s)%s" % (action, description, code, ": " + message if message else "")
    if code == 50:
        right = "Write %s" % attribute if attribute else "Read"
        return _errors.PermissionDenied(
            "%s: the bound account %s has no right to do this" % (detail, username or "(anonymous)"),
            user=user,
            hint="Grant '%s' (write property on %s) on %s or its OU to that account" % (
                right, attribute or "the attribute", dn or "the object") if attribute else
            "Grant the account read access to the objects")
    if code in (19, 21) and attribute:
        return _errors.ValueTooLarge(
            "%s: the directory refused a %s-byte value" % (detail, size), user=user,
            hint="Lower max_bytes; thumbnailPhoto holds at most 102400 bytes")
    if code == 32:
        return _errors.UserNotFound("%s: the object does not exist" % detail, user=user)
    if code == 8:
        return _errors.StrongerAuthRequired(detail, user=user, hint="Use tls_mode=ldaps or start_tls")
    return _errors.DirectoryError(detail, user=user)


# --- Kerberos -------------------------------------------------------------------

def _import_gssapi():
    """The gssapi module, or ConfigurationError saying how to get it."""
    try:
        import gssapi  # pylint: disable=import-outside-toplevel
        import gssapi.raw  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        raise _errors.ConfigurationError(
            "auth_protocol=kerberos needs the gssapi Python package on the host that runs the module",
            hint="pip install gssapi (it builds against the system Kerberos library: on Debian/Ubuntu "
                 "apt-get install libkrb5-dev gcc python3-dev, on RHEL dnf install krb5-devel gcc "
                 "python3-devel)")
    return gssapi


def _to_bytes(text):
    return text if isinstance(text, bytes) else text.encode("utf-8")


def kerberos_principal(username):
    """The Kerberos principal for ``username`` (None stays None).

    ``user@example.com`` -> ``user@EXAMPLE.COM`` (AD's realm is its DNS domain in upper case;
    realms are case-sensitive), ``EXAMPLE\\user`` -> ``user`` (the default realm of krb5.conf),
    anything else unchanged.
    """
    if not username:
        return None
    name = username.strip()
    if "\\" in name:
        return name.split("\\", 1)[1]
    if "@" in name:
        user, dummy, realm = name.rpartition("@")
        return "%s@%s" % (user, realm.upper())
    return name


def _gss_reason(exc):
    """The most specific text of a GSSError: the minor (mechanism) message when there is one."""
    text = str(exc)
    m = re.search(r"Minor \(\d+\): (.+)$", text, re.DOTALL)
    if m and m.group(1).strip() and "Unknown error" not in m.group(1):
        return m.group(1).strip()
    m = re.search(r"Major \(\d+\): ([^,]+)", text)
    return m.group(1).strip() if m else text


# (substring of the Kerberos library's message, what it means, what to do).  MIT and Heimdal
# wording; the original message is always kept in the error text.
_KERBEROS_FAILURES = (
    ("preauthentication failed", "the password is wrong",
     "Check the password of {principal}"),
    ("password incorrect", "the password is wrong",
     "Check the password of {principal}"),
    ("server not found in kerberos database", "the KDC does not know the service {service}",
     "Connect to the DC by its DNS name (its service principal is ldap/<DNS name>), not by an IP address "
     "or alias, or set kerberos_hostname_override to the DC's DNS name"),
    ("not found in kerberos database", "the KDC does not know the principal {principal}",
     "Check username: a user principal such as svc-photos@EXAMPLE.COM (the realm in upper case)"),
    ("cannot contact any kdc", "no KDC answered",
     "Check that a KDC of the realm is reachable on port 88 and named in krb5.conf (KRB5_CONFIG) or in DNS"),
    ("cannot find kdc for realm", "krb5.conf names no KDC for the realm",
     "Add the realm with its kdc to krb5.conf (or set KRB5_CONFIG), or allow dns_lookup_kdc; give "
     "username with the realm in upper case (user@EXAMPLE.COM)"),
    ("clock skew too great", "the clocks of this host and the KDC differ by more than 5 minutes",
     "Synchronize the time (NTP) of this host with the domain"),
    ("ticket expired", "the Kerberos ticket has expired",
     "Get a new ticket (kinit), or give password so the module gets one itself"),
    ("credentials have expired", "the Kerberos ticket has expired",
     "Get a new ticket (kinit), or give password so the module gets one itself"),
    ("credentials have been revoked", "the account is disabled or locked out",
     "Enable or unlock the account, or use another one"),
    ("password has expired", "the password has expired",
     "Set a new password for the account"),
    ("can't find client principal", "the ticket cache holds no ticket for {principal}",
     "Run kinit {principal}, leave username out to use the cache's own principal, or give password"),
    ("no credentials cache found", "there is no Kerberos ticket",
     "Run kinit (the cache is KRB5CCNAME), use a keytab (KRB5_CLIENT_KTNAME), or give username and password "
     "so the module gets a ticket itself"),
    ("no kerberos credentials available", "there is no Kerberos ticket",
     "Run kinit (the cache is KRB5CCNAME), use a keytab (KRB5_CLIENT_KTNAME), or give username and password "
     "so the module gets a ticket itself"),
    ("key table", "the keytab could not be used",
     "Check KRB5_CLIENT_KTNAME and that the keytab holds a key for {principal}"),
    ("keytab", "the keytab could not be used",
     "Check KRB5_CLIENT_KTNAME and that the keytab holds a key for {principal}"),
)


def _kerberos_failure(reason, principal=None, service=None, password_given=False):
    """(meaning, hint) for a Kerberos library message."""
    lowered = reason.lower()
    values = dict(principal=principal or "the principal", service=service or "ldap/<host>")
    for needle, meaning, hint in _KERBEROS_FAILURES:
        if needle in lowered:
            return meaning.format(**values), hint.format(**values)
    if "no credentials were supplied" in lowered and not password_given:
        return ("there is no Kerberos ticket",
                "Run kinit (the cache is KRB5CCNAME), use a keytab (KRB5_CLIENT_KTNAME), or give username and "
                "password so the module gets a ticket itself")
    return ("the Kerberos library refused", "Check the Kerberos setup: krb5.conf (KRB5_CONFIG), the ticket "
            "(klist), the username and password")


# --- change tracking: Microsoft's documented uSNChanged polling ---------------------
# Additive section (perf): small helpers the bulk sync uses to ask a DC what changed since
# a recorded point.  USNs are per DC: a point is only meaningful against the same DC
# (dsServiceName) with the same database (invocationId; a restore gives a new one).

SHOW_DELETED_OID = "1.2.840.113556.1.4.417"
_PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"


def _raw_first(entry, name):
    """The first raw (bytes) value of ``name`` in a search entry, attribute names matched without case."""
    for key, values in (entry.get("raw_attributes") or {}).items():
        if key.lower() == name.lower():
            return bytes(values[0]) if values else None
    return None


def dc_change_point(directory):
    """Where this DC stands now: ``dict(service_name, invocation_id, highest_usn, server)``.

    Read fresh every time (the rootDSE's ``highestCommittedUSN`` moves with every change);
    ``invocationId`` comes from the DC's own NTDS Settings object (``dsServiceName``).
    """
    conn = directory.connection
    with directory._talking("reading the DC's change point (rootDSE)"):  # pylint: disable=protected-access
        ok = conn.search("", "(objectClass=*)", search_scope=ldap3.BASE,
                         attributes=["highestCommittedUSN", "dsServiceName"])
    if not ok:
        raise _directory_error(conn.result or {}, "reading the rootDSE", username=directory.settings.username)
    entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
    if not entries:
        raise _errors.DirectoryError("the rootDSE returned nothing")
    usn = _raw_first(entries[0], "highestCommittedUSN")
    service = _raw_first(entries[0], "dsServiceName")
    invocation = None
    if service:
        service = service.decode("utf-8")
        with directory._talking("reading the DC's invocationId"):  # pylint: disable=protected-access
            ok = conn.search(service, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["invocationId"])
        if ok:
            for entry in conn.response or []:
                if entry.get("type") == "searchResEntry":
                    invocation = guid_from_bytes(_raw_first(entry, "invocationId"))
    return dict(service_name=service, invocation_id=invocation,
                highest_usn=int(usn) if usn else None, server=directory.server_used)


def find_changed(directory, ldap_filter, attributes, min_usn=None, search_base=None, scope="subtree",
                 page_size=500, show_deleted=False):
    """Paged search for ``ldap_filter`` restricted to ``(uSNChanged>=min_usn)``; yields ldap3 entries.

    Reads only ``attributes`` (uSNChanged and objectGUID are always added).  Each page is
    read whole (entries and paging cookie) before anything is yielded, so the caller may
    run other operations on the same connection while it iterates.
    """
    text = ldap_filter.strip()
    text = text if text.startswith("(") else "(%s)" % text
    if min_usn is not None:
        text = "(&%s(uSNChanged>=%d))" % (text, int(min_usn))
    wanted = list(attributes)
    for name in ("uSNChanged", "objectGUID"):
        if name.lower() not in [a.lower() for a in wanted]:
            wanted.append(name)
    base = search_base or directory.search_base()
    ldap_scope = {"subtree": ldap3.SUBTREE, "onelevel": ldap3.LEVEL, "base": ldap3.BASE}[scope]
    controls = [(SHOW_DELETED_OID, True, None)] if show_deleted else None
    conn = directory.connection
    cookie = None
    while True:
        with directory._talking("search of %s for changes" % base):  # pylint: disable=protected-access
            ok = conn.search(base, text, search_scope=ldap_scope, attributes=wanted, paged_size=page_size,
                             paged_cookie=cookie, controls=controls)
        result = conn.result or {}
        if not ok:
            if result.get("result") in (0, 32):
                return
            raise _directory_error(result, "search of %s for changes" % base, username=directory.settings.username)
        page = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        cookie = ((result.get("controls") or {}).get(_PAGED_RESULTS_OID) or {}).get("value", {}).get("cookie")
        yield from page
        if not cookie:
            return


def entry_usn(entry):
    """uSNChanged of a search entry as int (None when absent)."""
    value = _raw_first(entry, "uSNChanged")
    return int(value) if value else None


def entry_guid(entry):
    """objectGUID of a search entry in its canonical string form (None when absent)."""
    return guid_from_bytes(_raw_first(entry, "objectGUID"))


def entry_to_user(directory, entry):
    """A DirectoryUser from a search entry (as ``find_users`` builds them)."""
    return directory._entry_to_user(entry)  # pylint: disable=protected-access
