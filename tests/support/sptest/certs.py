# -*- coding: utf-8 -*-
"""Test PKI for the SharePoint/Graph test server.

Makes (or reuses) in a state directory:
- ``ca.pem`` / ``ca-key.pem``: a throwaway test CA,
- ``cert.pem`` / ``key.pem``: the HTTPS server certificate (SANs localhost, 127.0.0.1, ::1),
- ``client-cert.pem`` / ``client-key.pem``: the Entra app certificate MSAL signs assertions with,
- ``wrong-client-key.pem``: a key that is *not* registered (to test refusal).
"""

import datetime
import hashlib
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _write(path, data, private=False):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_key(path):
    with open(path, "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def load_cert(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def _builder(subject, issuer, public_key, days):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=days)))


def thumbprints(cert):
    """(sha1 hex, sha256 hex) of a certificate's DER bytes, upper-case like Entra shows them."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der).hexdigest().upper(), hashlib.sha256(der).hexdigest().upper()


def ensure_pki(state_dir, ca_cert=None, ca_key=None, tls_cert=None, tls_key=None):
    """Create what is missing; return a dict of paths.

    ``ca_cert``+``ca_key`` sign a new server certificate with an existing CA; ``tls_cert``+``tls_key``
    (with ``ca_cert``) use a ready server certificate as it is.
    """
    os.makedirs(state_dir, exist_ok=True)
    paths = {
        "ca_cert": os.path.join(state_dir, "ca.pem"),
        "ca_key": os.path.join(state_dir, "ca-key.pem"),
        "cert": os.path.join(state_dir, "cert.pem"),
        "key": os.path.join(state_dir, "key.pem"),
        "client_cert": os.path.join(state_dir, "client-cert.pem"),
        "client_key": os.path.join(state_dir, "client-key.pem"),
        "wrong_client_key": os.path.join(state_dir, "wrong-client-key.pem"),
    }
    if tls_cert and tls_key:
        if not ca_cert:
            raise ValueError("tls_cert/tls_key need ca_cert (the CA that signed them)")
        paths.update(ca_cert=os.path.abspath(ca_cert), ca_key=None,
                     cert=os.path.abspath(tls_cert), key=os.path.abspath(tls_key))
    else:
        if ca_cert and ca_key:
            paths["ca_cert"], paths["ca_key"] = os.path.abspath(ca_cert), os.path.abspath(ca_key)
        if not (os.path.exists(paths["ca_cert"]) and os.path.exists(paths["ca_key"])):
            key = _new_key()
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"photosync SharePoint test CA")])
            cert = (_builder(name, name, key.public_key(), 3650)
                    .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                    .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                   critical=True)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                    .sign(key, hashes.SHA256()))
            _write(paths["ca_key"], _key_pem(key), private=True)
            _write(paths["ca_cert"], cert.public_bytes(serialization.Encoding.PEM))
            for stale in ("cert", "key"):
                if os.path.exists(paths[stale]):
                    os.unlink(paths[stale])
        if not (os.path.exists(paths["cert"]) and os.path.exists(paths["key"])):
            ca_key_obj = _load_key(paths["ca_key"])
            ca_cert_obj = load_cert(paths["ca_cert"])
            key = _new_key()
            san = x509.SubjectAlternativeName([
                x509.DNSName(u"localhost"),
                x509.IPAddress(ipaddress.ip_address(u"127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address(u"::1")),
            ])
            cert = (_builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"localhost")]),
                             ca_cert_obj.subject, key.public_key(), 825)
                    .add_extension(san, critical=False)
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                    .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key_obj.public_key()),
                                   critical=False)
                    .sign(ca_key_obj, hashes.SHA256()))
            _write(paths["key"], _key_pem(key), private=True)
            _write(paths["cert"], cert.public_bytes(serialization.Encoding.PEM))
    # The Entra app certificate is self-signed, as Entra app credentials usually are.
    if not (os.path.exists(paths["client_cert"]) and os.path.exists(paths["client_key"])):
        key = _new_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"photosync-test-app")])
        cert = _builder(name, name, key.public_key(), 730).sign(key, hashes.SHA256())
        _write(paths["client_key"], _key_pem(key), private=True)
        _write(paths["client_cert"], cert.public_bytes(serialization.Encoding.PEM))
    if not os.path.exists(paths["wrong_client_key"]):
        _write(paths["wrong_client_key"], _key_pem(_new_key()), private=True)
    return paths
