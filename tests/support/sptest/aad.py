# -*- coding: utf-8 -*-
"""Entra ID (Azure AD) v2.0 endpoints MSAL uses for the client-credentials flow.

MSAL 1.39 with ``instance_discovery=False`` (or ``validate_authority=False``) fetches
``GET {authority}/v2.0/.well-known/openid-configuration`` and then
``POST {token_endpoint}`` with ``grant_type=client_credentials``, ``client_id``, ``scope``,
``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer``, ``client_assertion``
(RS256 + ``x5t`` when given a SHA-1 thumbprint, PS256 + ``x5t#S256`` when given the public certificate)
and ``client_info=1``.  The assertion is verified here for real.
"""

import base64
import datetime
import secrets
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import jwt

from .sharepoint import Response

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
SPO_APP_ID = "00000003-0000-0ff1-ce00-000000000000"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def aad_error(status, error, code, description):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    trace = str(uuid.uuid4())
    text = "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s" % (code, description, trace, trace, now)
    return Response(status, {"error": error, "error_description": text, "error_codes": [code],
                             "timestamp": now, "trace_id": trace, "correlation_id": trace,
                             "error_uri": "https://login.microsoftonline.com/error?code=%d" % code})


class Token(object):
    def __init__(self, audience, expires, secret, client_id, roles):
        self.audience, self.expires, self.secret = audience, expires, secret
        self.client_id, self.roles = client_id, list(roles)


class Authority(object):
    def __init__(self, app):
        self.app = app
        self.tokens = {}

    def tenant_ok(self, tenant):
        return tenant.lower() in (self.app.tenant_id.lower(), self.app.tenant_name.lower())

    def openid_configuration(self, req, tenant):
        if not self.tenant_ok(tenant):
            return aad_error(400, "invalid_tenant", 90002,
                             "Tenant '%s' not found. Check to make sure you have the correct tenant ID." % tenant)
        root = "%s/%s" % (req.base, self.app.tenant_id)
        return Response(200, {
            "token_endpoint": root + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": "%s/discovery/v2.0/keys" % root,
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": "%s/%s/v2.0" % (req.base, self.app.tenant_id),
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": req.base + "/graph/oidc/userinfo",
            "authorization_endpoint": root + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": root + "/oauth2/v2.0/devicecode",
            "http_logout_supported": True, "frontchannel_logout_supported": True,
            "end_session_endpoint": root + "/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid"],
            "kerberos_endpoint": root + "/kerberos",
            "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        })

    def instance_discovery(self, req):
        return Response(200, {
            "tenant_discovery_endpoint": "%s/%s/v2.0/.well-known/openid-configuration" % (req.base, self.app.tenant_id),
            "api-version": "1.1",
            "metadata": [{"preferred_network": urlsplit(req.base).netloc,
                          "preferred_cache": urlsplit(req.base).netloc,
                          "aliases": [urlsplit(req.base).netloc]}],
        })

    def resource_for(self, scope, req):
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return None, aad_error(400, "invalid_scope", 1002012,
                                   "The provided value for scope %s is not valid. Client credential flows must have "
                                   "a scope value with /.default suffixed to the resource identifier "
                                   "(application ID URI)." % scope)
        resource = scopes[0][:-len("/.default")].rstrip("/")
        if resource.lower() in (GRAPH_AUDIENCE, GRAPH_APP_ID):
            return "graph", None
        parts = urlsplit(resource)
        if (parts.scheme == "https" and parts.hostname in LOOPBACK and parts.port in self.app.ports
                and parts.path in ("", "/")):
            return "spo", None
        if resource.lower() in (self.app.spo_resource.lower(), SPO_APP_ID):
            return "spo", None
        return None, aad_error(400, "invalid_resource", 500011,
                               "The resource principal named %s was not found in the tenant named %s. This can "
                               "happen if the application has not been installed by the administrator of the "
                               "tenant or consented to by any user in the tenant." % (resource, self.app.tenant_name))

    def token(self, req, tenant):
        if not self.tenant_ok(tenant):
            return aad_error(400, "invalid_request", 90002, "Tenant '%s' not found." % tenant)
        if req.method != "POST":
            return aad_error(405, "invalid_request", 900561,
                             "The endpoint only accepts POST, OPTIONS requests. Received a GET request.")
        form = dict((k, v[0]) for k, v in parse_qs(req.body.decode("utf-8"), keep_blank_values=True).items())
        if form.get("grant_type") != "client_credentials":
            return aad_error(400, "unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type '%s'." % form.get("grant_type"))
        client_id = form.get("client_id", "")
        if client_id.lower() != self.app.client_id.lower():
            return aad_error(400, "unauthorized_client", 700016,
                             "Application with identifier '%s' was not found in the directory '%s'."
                             % (client_id, self.app.tenant_name))
        audience, err = self.resource_for(form.get("scope", ""), req)
        if err:
            return err
        secret = False
        if form.get("client_assertion"):
            if form.get("client_assertion_type") != JWT_BEARER:
                return aad_error(400, "invalid_request", 50027, "client_assertion_type is not valid.")
            err = self.verify_assertion(req, form["client_assertion"], client_id)
            if err:
                return err
        elif form.get("client_secret"):
            if not secrets.compare_digest(form["client_secret"], self.app.client_secret):
                return aad_error(401, "invalid_client", 7000215,
                                 "Invalid client secret provided. Ensure the secret being sent in the request is "
                                 "the client secret value, not the client secret ID, for a secret added to app "
                                 "'%s'." % client_id)
            secret = True
        else:
            return aad_error(401, "invalid_client", 7000218,
                             "The request body must contain the following parameter: 'client_assertion' or "
                             "'client_secret'.")
        value = "spt." + secrets.token_urlsafe(32)
        lifetime = self.app.token_lifetime
        with self.app._lock:
            self.tokens[value] = Token(audience, time.time() + lifetime, secret, client_id, self.app.app_roles)
        return Response(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                              "access_token": value})

    def verify_assertion(self, req, assertion, client_id):
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return aad_error(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
        alg = header.get("alg")
        cert = self.app.client_certificate
        if alg == "RS256" and header.get("x5t"):
            used, expected = header["x5t"], _b64url(bytes.fromhex(cert["thumbprint"]))
        elif alg == "PS256" and header.get("x5t#S256"):
            used, expected = header["x5t#S256"], _b64url(bytes.fromhex(cert["thumbprint_sha256"]))
        else:
            return aad_error(401, "invalid_client", 5002738,
                             "Invalid JWT token. '%s' is not a supported signature algorithm or the "
                             "x5t/x5t#S256 header is missing." % alg)
        if str(used).rstrip("=") != expected:
            try:
                used_hex = base64.urlsafe_b64decode(used + "=" * (-len(used) % 4)).hex().upper()
            except ValueError:
                used_hex = used
            return aad_error(401, "invalid_client", 700027,
                             "The certificate with identifier used to sign the client assertion is not registered "
                             "on application. [Reason - The key was not found., Thumbprint of key used by client: "
                             "'%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
                             "configured keys for app Id '%s'.]" % (used_hex, client_id))
        try:
            claims = jwt.decode(assertion, self.app.client_public_key, algorithms=[alg], leeway=300,
                                options={"verify_aud": False, "require": ["exp", "aud", "iss", "sub"]})
        except jwt.InvalidSignatureError:
            return aad_error(401, "invalid_client", 700027,
                             "Client assertion failed signature validation. [Reason - The key was not found., "
                             "Thumbprint of key used by client: '%s']" % cert["thumbprint"])
        except jwt.ExpiredSignatureError:
            return aad_error(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        except jwt.PyJWTError as exc:
            return aad_error(401, "invalid_client", 50027, "JWT token is invalid or malformed: %s" % exc)
        aud = urlsplit(str(claims.get("aud")))
        if not (aud.scheme == "https" and aud.hostname in LOOPBACK and aud.port in self.app.ports
                and aud.path.lower() == req.path.lower()):
            return aad_error(401, "invalid_client", 700212,
                             "No matching federated identity record found for presented assertion audience '%s'."
                             % claims.get("aud"))
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return aad_error(401, "invalid_client", 700021,
                             "Client assertion application identifier doesn't match 'client_id' parameter.")
        if claims["exp"] - time.time() > 3600 * 24:
            return aad_error(401, "invalid_client", 700024, "Client assertion contains an invalid lifetime.")
        return None

    def check(self, req, audience):
        """Validate a bearer token for ``audience`` ('graph' or 'spo'); return (Token, None) or (None, reason)."""
        auth = req.headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer "):
            return None, "missing"
        tok = self.tokens.get(auth[7:].strip())
        if tok is None:
            return None, "invalid"
        if tok.expires < time.time():
            return None, "expired"
        if tok.audience != audience:
            return None, "audience"
        if audience == "spo" and tok.secret:
            return None, "secret"
        return tok, None

    def expire_all(self):
        with self.app._lock:
            for tok in self.tokens.values():
                tok.expires = 0
