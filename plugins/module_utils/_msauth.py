# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Authentication for the SharePoint and Graph readers, built on the libraries made for it.

* ``ntlm``: ``requests_ntlm.HttpNtlmAuth`` (pyspnego underneath).
* ``kerberos``: ``requests_gssapi.HTTPSPNEGOAuth`` or ``requests_kerberos.HTTPKerberosAuth``.
* ``certificate``: app-only through MSAL (``ConfidentialClientApplication`` with a
  certificate credential, ``acquire_token_for_client``); one token per resource,
  reused for the run (MSAL's in-memory cache refreshes it before it expires).
* ``token``: a ready bearer token, used as given.

Nothing here talks to the network before the first request that needs a token.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import importlib.util
import threading

# The libraries are imported when an authentication method needs them, never at import time:
# a task reading a file must not pay for requests, MSAL, pyspnego and cryptography.
HAS_REQUESTS_NTLM = importlib.util.find_spec("requests_ntlm") is not None
HAS_MSAL = importlib.util.find_spec("msal") is not None
HAS_CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None

from ansible_collections.photosync.ad.plugins.module_utils._errors import (
    ConfigurationError,
    RemoteServiceError,
)

# The Entra-app option family is defined in the light _remote_options (re-exported here).
from ansible_collections.photosync.ad.plugins.module_utils._remote_options import (  # noqa: F401 pylint: disable=unused-import
    DEFAULT_AUTHORITY, entra_app_spec,
)

MICROSOFT_AUTHORITY_HOSTS = (
    "login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn",
    "login.chinacloudapi.cn", "login.windows.net", "login.microsoft.com", "login.sts.microsoft.com",
)


def _missing(lib, package):
    return ConfigurationError("the Python library %s is required for this authentication method" % lib,
                              hint="Install it on the host that runs the module (pip install %s)" % package)


# --- on-premises ---------------------------------------------------------------

def _import(name, package):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise _missing(package, package)


def ntlm_auth_factory(username, password):
    if not HAS_REQUESTS_NTLM:
        raise _missing("requests-ntlm", "requests-ntlm")
    if not username or password is None:
        raise ConfigurationError("NTLM needs username (DOMAIN\\user or user@domain) and password")
    ntlm = _import("requests_ntlm", "requests-ntlm")
    return lambda: ntlm.HttpNtlmAuth(username, password)


def kerberos_auth_factory(username=None, password=None):
    """SPNEGO/Kerberos with the caller's ticket cache (kinit first); no password handling here."""
    try:
        from requests_gssapi import HTTPSPNEGOAuth
    except ImportError:
        HTTPSPNEGOAuth = None
    if HTTPSPNEGOAuth is not None:
        return HTTPSPNEGOAuth
    try:
        from requests_kerberos import HTTPKerberosAuth, OPTIONAL
    except ImportError:
        raise ConfigurationError(
            "Kerberos authentication needs the Python library requests-gssapi or requests-kerberos",
            hint="Install one of them (pip install requests-gssapi) and get a ticket with kinit")
    return lambda: HTTPKerberosAuth(mutual_authentication=OPTIONAL)


# --- bearer tokens ---------------------------------------------------------------

class BearerAuth(object):
    """Adds ``Authorization: Bearer`` with a token for the request's resource (a requests auth callable)."""

    def __init__(self, provider, resource):
        self.provider = provider
        self.resource = resource

    def __call__(self, request):
        resource = self.resource(request.url) if callable(self.resource) else self.resource
        request.headers["Authorization"] = "Bearer " + self.provider.token(resource)
        return request


class StaticTokenProvider(object):
    """A token the user already has (``token`` option)."""

    method = "token"

    def __init__(self, token):
        if not token:
            raise ConfigurationError("auth is token but no token was given")
        self._token = token

    def token(self, resource):
        return self._token


def certificate_credential(certificate_path, thumbprint=None):
    """``{"private_key": PEM, "thumbprint": SHA-1 hex}`` from a PEM holding key and certificate."""
    if not certificate_path:
        raise ConfigurationError("certificate authentication needs certificate_path (a PEM with the private key)")
    try:
        with open(certificate_path, "rb") as handle:
            pem = handle.read()
    except (IOError, OSError) as exc:
        raise ConfigurationError("cannot read certificate_path %s: %s" % (certificate_path, exc))
    text = pem.decode("ascii", "replace")
    if "PRIVATE KEY-----" not in text:
        raise ConfigurationError("%s holds no private key" % certificate_path,
                                 hint="certificate_path must be one PEM file with the private key and the certificate")
    if not thumbprint:
        if not HAS_CRYPTOGRAPHY:
            raise _missing("cryptography", "cryptography")
        x509 = _import("cryptography.x509", "cryptography")
        hashes = _import("cryptography.hazmat.primitives.hashes", "cryptography")
        start = text.find("-----BEGIN CERTIFICATE-----")
        if start < 0:
            raise ConfigurationError("%s holds no certificate, so its thumbprint cannot be computed" % certificate_path,
                                     hint="Add the certificate to the PEM or give certificate_thumbprint")
        cert = x509.load_pem_x509_certificate(text[start:].encode("ascii"))
        thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # Entra's x5t is the SHA-1 thumbprint
    thumbprint = thumbprint.replace(":", "").replace(" ", "").lower()
    return {"private_key": text, "thumbprint": thumbprint}


class _PinnedVerifySession(object):
    """The HTTP client handed to MSAL: every call validates with *our* verify setting.

    A plain ``requests.Session(verify=...)`` loses to REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the
    environment, which would silently ignore ``ca_cert``.  Proxies from the environment still apply.
    """

    def __init__(self, verify, timeout):
        self.verify = verify
        self.timeout = timeout
        self._session = None

    def _s(self):
        if self._session is None:
            import requests
            self._session = requests.Session()
        return self._session

    def get(self, url, **kwargs):
        kwargs["verify"] = self.verify
        kwargs.setdefault("timeout", self.timeout)
        return self._s().get(url, **kwargs)

    def post(self, url, **kwargs):
        kwargs["verify"] = self.verify
        kwargs.setdefault("timeout", self.timeout)
        return self._s().post(url, **kwargs)

    def close(self):
        if self._session is not None:
            self._session.close()


class MsalTokenProvider(object):
    """App-only tokens for a certificate credential, cached per resource for the run."""

    method = "certificate"

    def __init__(self, tenant_id, client_id, certificate_path, certificate_thumbprint=None,
                 authority=DEFAULT_AUTHORITY, validate_certs=True, ca_cert=None, timeout=30, service="Entra ID"):
        if not HAS_MSAL:
            raise _missing("msal", "msal")
        if not tenant_id or not client_id:
            raise ConfigurationError("certificate authentication needs tenant_id and client_id")
        self.credential = certificate_credential(certificate_path, certificate_thumbprint)
        self.client_id = client_id
        self.authority = "%s/%s" % ((authority or DEFAULT_AUTHORITY).rstrip("/"), tenant_id)
        self.verify = ca_cert if ca_cert else bool(validate_certs)
        self.timeout = timeout
        self.service = service
        self._app = None
        self._tokens = {}
        self._lock = threading.Lock()
        self.acquired = 0

    def _application(self):
        if self._app is None:
            host = self.authority.split("/")[2].split(":")[0].lower()
            kwargs = {}
            if host not in MICROSOFT_AUTHORITY_HOSTS:
                # A private authority (a test server, ADFS-like setups): skip the
                # discovery call to Microsoft and accept the authority as given.
                kwargs.update(validate_authority=False, instance_discovery=False)
            msal = _import("msal", "msal")
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.client_id, authority=self.authority, client_credential=self.credential,
                    http_client=_PinnedVerifySession(self.verify, self.timeout), **kwargs)
            except ValueError as exc:
                raise ConfigurationError("MSAL refused the configuration: %s" % exc)
            except Exception as exc:  # requests errors while reading the authority's metadata
                raise RemoteServiceError("cannot reach the token authority %s: %s" % (self.authority, exc),
                                         hint="Check authority, tenant_id and ca_cert")
        return self._app

    def token(self, resource):
        scope = resource.rstrip("/") + "/.default"
        with self._lock:
            app = self._application()
            try:
                result = app.acquire_token_for_client([scope])
            except Exception as exc:
                raise RemoteServiceError("token request to %s failed: %s" % (self.authority, exc),
                                         hint="Check authority, tenant_id and ca_cert")
            if "access_token" not in result:
                description = result.get("error_description") or result.get("error") or "no access_token"
                raise RemoteServiceError(
                    "Entra ID refused a token for %s: %s" % (scope, description.splitlines()[0]), status=401,
                    hint="Check client_id, tenant_id and that the certificate (thumbprint %s) is uploaded to the "
                         "app registration" % self.credential["thumbprint"])
            if self._tokens.get(scope) != result["access_token"]:
                self.acquired += 1
            self._tokens[scope] = result["access_token"]
            return result["access_token"]


def token_provider(settings, service):
    """The bearer token provider for ``certificate`` or ``token`` settings."""
    auth = settings.get("auth") or ("token" if settings.get("token") else "certificate")
    if auth == "token":
        return StaticTokenProvider(settings.get("token"))
    if auth == "certificate":
        return MsalTokenProvider(
            settings.get("tenant_id"), settings.get("client_id"), settings.get("certificate_path"),
            settings.get("certificate_thumbprint"), authority=settings.get("authority"),
            validate_certs=settings.get("validate_certs", True), ca_cert=settings.get("ca_cert"),
            timeout=settings.get("timeout") or 30, service=service)
    raise ConfigurationError("auth %s gives no bearer token" % auth)
