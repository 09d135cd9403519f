# -*- coding: utf-8 -*-
"""SPTestServer: SharePoint on-premises + Online and Microsoft Graph on loopback, for tests and the demo."""

import base64
import contextlib
import hashlib
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import spnego
import spnego.channel_bindings
from cryptography.hazmat.primitives import serialization

from . import certs
from .aad import Authority
from .graph import GRAPH_FAULTS, Graph, graph_error
from .odata import SP_ERRORS, ODataError, content_type, error_body, parse_query
from .people import DEFAULT_PEOPLE, PeopleStore, generated_person, people_from_dc
from .sharepoint import Response, SharePoint

DROP = object()
_NTLM_LOCK = threading.Lock()


@contextlib.contextmanager
def _ntlm_user_file(path):
    """pyspnego's acceptor reads the process-wide NTLM_USER_FILE; set it only while stepping."""
    old = os.environ.get("NTLM_USER_FILE")
    os.environ["NTLM_USER_FILE"] = path
    try:
        yield
    finally:
        if old is None:
            del os.environ["NTLM_USER_FILE"]
        else:
            os.environ["NTLM_USER_FILE"] = old


ONPREM_SITE = "/sites/onprem"
ONPREM_MY = "/my"
SPO_SITE = "/spo"
SPO_MY = "/spo-my"
GRAPH_ROOT = "/graph/v1.0"
DEFAULT_TENANT = "7d3c4a9e-2b1f-4c8d-9e6a-5f0b1c2d3e4f"
DEFAULT_CLIENT = "b5a9e3c1-7f2d-4e8a-9c6b-1d0e2f3a4b5c"


class Request(object):
    def __init__(self, method, target, headers, body, base, scheme):
        self.method, self.target, self.headers, self.body = method, target, headers, body
        self.base, self.scheme = base, scheme
        raw_path, dummy, self.raw_query = target.partition("?")
        self.raw_path = raw_path
        self.path = unquote(raw_path)
        self.query = parse_query(self.raw_query)


class Fault(object):
    _ids = iter(range(1, 1 << 30))

    def __init__(self, path_regex, status=None, retry_after=None, count=1, latency=0.0, drop=False,
                 body=None, method=None, headers=None, malformed=False):
        self.id = next(Fault._ids)
        self.path_regex = path_regex
        self.regex = re.compile(path_regex, re.I)
        self.status = int(status) if status is not None else None
        self.retry_after = retry_after
        self.remaining = None if count is None or int(count) < 0 else int(count)
        self.latency = float(latency or 0.0)
        self.drop = bool(drop)
        self.body = body
        self.method = method.upper() if method else None
        self.headers = dict(headers or {})
        self.malformed = bool(malformed)
        self.hits = 0

    def matches(self, method, targets):
        if self.remaining == 0 or (self.method and self.method != method):
            return False
        return any(self.regex.search(t) for t in targets)

    def describe(self):
        return {"id": self.id, "path_regex": self.path_regex, "status": self.status,
                "retry_after": self.retry_after, "remaining": self.remaining, "latency": self.latency,
                "drop": self.drop, "hits": self.hits, "method": self.method, "malformed": self.malformed}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, app, ssl_context):
        self.app, self.ssl_context = app, ssl_context
        ThreadingHTTPServer.__init__(self, addr, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # Small responses would otherwise wait ~40 ms for the client's delayed ACK (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    timeout = 60

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        BaseHTTPRequestHandler.setup(self)
        self.ntlm_ctx = None
        self.ntlm_user = None

    def log_message(self, fmt, *args):
        app = self.server.app
        if app.verbose:
            sys.stderr.write("sptest %s - %s\n" % (self.address_string(), fmt % args))

    def log_request(self, code="-", size="-"):
        try:
            code = int(getattr(code, "value", code))
        except (TypeError, ValueError):
            code = 0
        if not self.path.startswith("/_control/"):
            self.server.app.request_log.append((time.monotonic(), self.command, self.path, code))
        self.log_message('"%s" %s %s', self.requestline, code, size)

    def _handle(self):
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        scheme = "https" if self.server.ssl_context is not None else "http"
        base = "%s://%s:%d" % (scheme, app.public_host, self.server.server_address[1])
        req = Request(self.command, self.path, self.headers, body, base, scheme)
        app._enter()
        try:
            try:
                resp = app.handle(req, self)
            except Exception:  # the test server must answer, and say why
                traceback.print_exc()
                resp = Response(500, error_body("verbose", "-2146232832, System.Exception",
                                                "Test server error: %s" % traceback.format_exc(limit=3)))
        finally:
            app._leave()
        if resp is DROP:
            app.request_log.append((time.monotonic(), self.command, self.path, 0))
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(resp.status)
        headers = {"Content-Type": resp.ctype, "Content-Length": str(len(resp.body))}
        headers.update(resp.headers)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)

    do_GET = do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = _handle


class SPTestServer(object):
    """See docs/development-sharepoint-server.md for the full description."""

    def __init__(self, state_dir, port=0, people=None, generate=0, odata="auto", http=False, http_port=0,
                 people_from_dc=None, onprem_version="2016", startrow_cap=50000, folder_threshold=5000,
                 unknown_account="null", ntlm_epa="off", token_lifetime=3599, app_roles=None,
                 domain=None, realm=None, tenant_id=DEFAULT_TENANT, tenant_name="example.onmicrosoft.com",
                 client_id=DEFAULT_CLIENT, client_secret="photosync-test-secret-1", ntlm_user="sp_reader",
                 ntlm_password="Sp-Reader-Pass-1", restricted_password="Restricted-Pass-1",
                 ca_cert=None, ca_key=None, tls_cert=None, tls_key=None, host="127.0.0.1", verbose=False,
                 batch="auto", batch_refusal=404):
        if odata not in ("auto", "verbose", "nometadata", "minimal"):
            raise ValueError("odata must be auto, verbose, nometadata or minimal")
        if onprem_version not in ("2013", "2016", "2019", "SE"):
            raise ValueError("onprem_version must be 2013, 2016, 2019 or SE")
        if batch not in ("auto", "on", "off"):
            raise ValueError("batch must be auto, on or off")
        if int(batch_refusal) not in (400, 404, 405, 501):
            raise ValueError("batch_refusal must be 400, 404, 405 or 501")
        self.state_dir = os.path.abspath(state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        self.port, self.http, self.http_port, self.host = port, http, http_port, host
        self.public_host = host
        self.odata, self.onprem_version = odata, onprem_version
        self.startrow_cap, self.folder_threshold = int(startrow_cap), int(folder_threshold)
        self.unknown_account, self.ntlm_epa = str(unknown_account), ntlm_epa
        self.token_lifetime = int(token_lifetime)
        self.app_roles = list(app_roles if app_roles is not None else ["User.Read.All", "Sites.Read.All"])
        self.tenant_id, self.tenant_name = tenant_id, tenant_name
        self.client_id, self.client_secret = client_id, client_secret
        self.verbose = verbose
        # $batch (SharePoint Online, 2016 and later): "auto" = on unless onprem_version is 2013, which refuses
        # it (batch_refusal: the status it answers with); "on"/"off" force it.
        self.batch, self.batch_refusal = batch, int(batch_refusal)
        self.batch_line_end, self.batch_quote_boundary = "\r\n", False
        self.batch_log = []
        self._digests = {}  # form digest -> (site root, expiry)
        self.digest_lifetime = 1800
        self.request_log = []
        self.faults = []
        self._lock = threading.RLock()
        self._in_flight = 0
        self.max_in_flight = 0
        self._file_index = {}
        self._servers, self._threads = [], []

        specs = []
        dc_domain, dc_realm = None, None
        if people_from_dc:
            dc_specs, dc_domain, dc_realm = _people_from_dc(people_from_dc)
            specs.extend(dc_specs)
        if people is not None:
            specs.extend(people)
        elif not people_from_dc:
            specs.extend(DEFAULT_PEOPLE)
        first = specs[0].get("account", "") if specs else ""
        self.domain = domain or dc_domain or (first.split("\\", 1)[0] if "\\" in first else "") or "EXAMPLE"
        self.realm = (realm or dc_realm or "example.test").lower()
        self.people = PeopleStore(specs)
        for i in range(1, int(generate or 0) + 1):
            spec = generated_person(i, self.domain, self.realm)
            if self.people.by_account(spec["account"]) is None:
                self.people.add(spec)

        self.paths = certs.ensure_pki(self.state_dir, ca_cert, ca_key, tls_cert, tls_key)
        client_cert = certs.load_cert(self.paths["client_cert"])
        sha1, sha256 = certs.thumbprints(client_cert)
        self.client_public_key = client_cert.public_key()
        self.client_certificate = {"private_key": self.paths["client_key"], "certificate": self.paths["client_cert"],
                                   "thumbprint": sha1, "thumbprint_sha256": sha256}
        server_cert = certs.load_cert(self.paths["cert"])
        self._cbt = b"tls-server-end-point:" + hashlib.sha256(
            server_cert.public_bytes(serialization.Encoding.DER)).digest()
        self.ntlm_user, self.ntlm_password, self.restricted_password = ntlm_user, ntlm_password, restricted_password
        self.ntlm_file = os.path.join(self.state_dir, "ntlm_users")
        with open(self.ntlm_file, "w") as handle:
            for user, password in ((ntlm_user, ntlm_password), ("restricted", restricted_password)):
                handle.write("%s:%s:%s\n" % (self.domain, user, password))
                handle.write(":%s@%s:%s\n" % (user, self.realm, password))
        os.chmod(self.ntlm_file, 0o600)
        self.authority_handler = Authority(self)
        self.sharepoint = SharePoint(self)
        self.graph = Graph(self)
        self.ports = ()

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.paths["cert"], self.paths["key"])
        listeners = [(self.port, ctx)]
        if self.http:
            listeners.append((self.http_port, None))
        for port, sslctx in listeners:
            srv = _HTTPServer((self.host, port), _Handler, self, sslctx)
            self._servers.append(srv)
        self.ports = tuple(s.server_address[1] for s in self._servers)
        for srv in self._servers:
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                                 name="sptest-%d" % srv.server_address[1], daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        for t in self._threads:
            t.join(5)
        self._servers, self._threads = [], []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return "https://%s:%d" % (self.public_host, self.ports[0])

    @property
    def http_url(self):
        return "http://%s:%d" % (self.public_host, self.ports[1]) if self.http and len(self.ports) > 1 else None

    @property
    def ca_cert(self):
        return self.paths["ca_cert"]

    @property
    def authority(self):
        return "%s/%s" % (self.url, self.tenant_id)

    @property
    def token_endpoint(self):
        return self.authority + "/oauth2/v2.0/token"

    @property
    def graph_url(self):
        return self.url + GRAPH_ROOT

    @property
    def spo_resource(self):
        return self.url if self.ports else "https://example.sharepoint.com"

    @property
    def spo_scope(self):
        return self.url + "/.default"

    @property
    def app_pem(self):
        """The Entra app's private key and certificate in one PEM file, as users pass it in certificate_path."""
        path = os.path.join(self.state_dir, "app-with-key.pem")
        if not os.path.exists(path):
            with open(path, "w") as out:
                for part in ("private_key", "certificate"):
                    with open(self.client_certificate[part]) as handle:
                        out.write(handle.read())
        return path

    def ntlm_options(self, **overrides):
        """The collection's ``sharepoint`` options for the on-premises site with this server's NTLM account."""
        urls = self.urls()
        options = dict(site_url=urls["onprem_site_url"], mysite_url=urls["onprem_mysite_url"],
                       username="%s\\%s" % (self.domain, self.ntlm_user), password=self.ntlm_password,
                       ca_cert=self.ca_cert)
        options.update(overrides)
        return options

    def certificate_options(self, **overrides):
        """The collection's ``graph`` (or online ``sharepoint``) options for this server's Entra app."""
        options = dict(tenant_id=self.tenant_id, client_id=self.client_id, certificate_path=self.app_pem,
                       authority=self.url, ca_cert=self.ca_cert)
        options.update(overrides)
        return options

    def urls(self, base=None):
        base = base or self.url
        return {"base_url": base, "onprem_site_url": base + ONPREM_SITE, "onprem_mysite_url": base + ONPREM_MY,
                "spo_site_url": base + SPO_SITE, "spo_mysite_url": base + SPO_MY, "graph_url": base + GRAPH_ROOT,
                "authority": "%s/%s" % (base, self.tenant_id), "control_url": base + "/_control"}

    # --- faults & state --------------------------------------------------------------------------
    def inject(self, path_regex, status=None, retry_after=None, count=1, latency=0.0, drop=False, body=None,
               method=None, headers=None, malformed=False):
        """Make the next ``count`` requests whose path matches ``path_regex`` (re.search, case-insensitive,
        tried on the raw and the percent-decoded request target) fail or slow down. Returns the fault id.

        Parts of a SharePoint ``$batch`` are matched on their own target (the part URL's path and query)
        by the faults that do not match the batch request itself: ``status``/``body`` answer that part,
        ``latency`` delays the whole batch answer (SharePoint answers a batch when every part is done),
        ``malformed`` writes that part as something that is not an HTTP response.  A fault that matches
        the batch request (``r"."``, ``r"[$]batch"``) acts on the batch request only, once: latency
        injected on every request counts a batch as one request."""
        fault = Fault(path_regex, status, retry_after, count, latency, drop, body, method, headers, malformed)
        with self._lock:
            self.faults.append(fault)
        return fault.id

    def reset_faults(self):
        with self._lock:
            del self.faults[:]

    def clear_log(self):
        del self.request_log[:]
        del self.batch_log[:]

    def _take_fault(self, req, outer=None):
        targets = (req.target, unquote(req.target))
        outer_targets = (outer.target, unquote(outer.target)) if outer is not None else None
        with self._lock:
            for fault in self.faults:
                if outer_targets is not None and fault.matches(outer.method, outer_targets):
                    continue  # about the batch request itself: it acted on that, once
                if fault.matches(req.method, targets):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    fault.hits += 1
                    return fault
        return None

    def _enter(self):
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self):
        with self._lock:
            self._in_flight -= 1

    def reset_stats(self):
        with self._lock:
            self.max_in_flight = self._in_flight

    def person(self, ident):
        person = self.people.find(ident)
        if person is None:
            raise KeyError("no such person: %s" % ident)
        return person

    def set_photo(self, ident, seed=None, data=None, size=None):
        """Change a person's photo (new seed, or given image bytes); ETag, ?t= and mediaEtag change."""
        with self._lock:
            person = self.person(ident)
            person.set_photo(seed=seed, data=data, size=size)
        return person

    def remove_photo(self, ident):
        with self._lock:
            person = self.person(ident)
            person.remove_photo()
        return person

    def expire_tokens(self):
        self.authority_handler.expire_all()

    # --- SharePoint form digests and $batch --------------------------------------------------------
    def batch_enabled(self, flavor):
        if self.batch != "auto":
            return self.batch == "on"
        return not (flavor == "onprem" and self.onprem_version == "2013")

    def issue_digest(self, site_root):
        value = "0x%s,%s" % (os.urandom(32).hex().upper(), time.strftime("%d %b %Y %H:%M:%S -0000", time.gmtime()))
        with self._lock:
            self._digests[value] = (site_root, time.time() + self.digest_lifetime)
        return value, self.digest_lifetime

    def digest_ok(self, value, site_root):
        with self._lock:
            entry = self._digests.get(value or "")
        return entry is not None and entry[0] == site_root and entry[1] > time.time()

    def expire_digests(self):
        """Every form digest given out so far stops being accepted (as after FormDigestTimeoutSeconds)."""
        with self._lock:
            self._digests.clear()

    def _sp_subrequest(self, outer, method, target, headers, flavor, site_root, user):
        """One part of a SharePoint $batch, as the outer request's user; part faults apply (see ``inject``).
        Returns a Response, or bytes for a part written malformed."""
        req = Request(method, target, headers, b"", outer.base, outer.scheme)
        fault = self._take_fault(req, outer)
        if fault is not None:
            if fault.latency:
                time.sleep(fault.latency)
            if fault.malformed:
                return b"HTTP/1.1 OK but not quite\r\nthis part is not an HTTP response"
            if fault.status:
                return self._fault_response(req, fault, "sp")
        return self.sharepoint.handle(req, flavor, site_root, user)

    # --- description -----------------------------------------------------------------------------
    def describe(self, hashes="explicit"):
        urls = self.urls()
        people = []
        for p in self.people.people:
            want = hashes == "all" or (hashes == "explicit" and not p.sam.startswith("bulk"))
            extra = {"picture_url_onprem": self.sharepoint.picture_url(p, "onprem", self.url),
                     "picture_url_online": self.sharepoint.picture_url(p, "online", self.url)}
            people.append(p.describe(extra, hashes=want))
        return {
            "version": 1, "pid": os.getpid(), "state_dir": self.state_dir,
            "base_url": self.url, "http_url": self.http_url, "ca_cert": self.paths["ca_cert"],
            "server_cert": self.paths["cert"], "control_url": urls["control_url"],
            "batch": {"mode": self.batch, "refusal": self.batch_refusal,
                      "onprem": self.batch_enabled("onprem"), "online": self.batch_enabled("online")},
            "onprem": {"version": self.onprem_version, "site_url": urls["onprem_site_url"],
                       "mysite_url": urls["onprem_mysite_url"], "domain": self.domain, "realm": self.realm,
                       "username": self.ntlm_user, "password": self.ntlm_password,
                       "account": "%s\\%s" % (self.domain, self.ntlm_user),
                       "restricted": {"username": "restricted", "password": self.restricted_password,
                                      "account": "%s\\restricted" % self.domain},
                       "ntlm_epa": self.ntlm_epa},
            "online": {"tenant_id": self.tenant_id, "tenant_name": self.tenant_name,
                       "site_url": urls["spo_site_url"], "mysite_url": urls["spo_mysite_url"],
                       "scope": self.spo_scope, "authority": self.authority, "token_endpoint": self.token_endpoint,
                       "client_id": self.client_id, "client_secret": self.client_secret,
                       "client_certificate": dict(self.client_certificate),
                       "wrong_private_key": self.paths["wrong_client_key"], "app_roles": self.app_roles},
            "graph": {"base_url": urls["graph_url"], "scope": "https://graph.microsoft.com/.default"},
            "search": {"startrow_cap": self.startrow_cap, "rowlimit_cap": 500,
                       "people_source_id": "b09a7990-05ea-4af9-81ef-edfab16c4e31"},
            "folder_threshold": self.folder_threshold,
            "people_count": len(self.people.people),
            "people": people,
        }

    def write_description(self, path=None, hashes="explicit"):
        path = path or os.path.join(self.state_dir, "sp.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(self.describe(hashes), handle, indent=2, ensure_ascii=False, sort_keys=True)
        os.replace(tmp, path)
        return path

    # --- request handling ------------------------------------------------------------------------
    def handle(self, req, conn):
        path = req.path
        if path.startswith("/_control/"):
            return self._control(req)
        if path == "/common/discovery/instance":
            return self._faulted(req, "aad") or self.authority_handler.instance_discovery(req)
        m = re.match(r"^/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token|discovery/v2\.0/keys)$",
                     path)
        if m:
            fault = self._faulted(req, "aad")
            if fault:
                return fault
            tenant, what = m.group(1), m.group(2)
            if what.startswith("v2.0"):
                return self.authority_handler.openid_configuration(req, tenant)
            if what.startswith("discovery"):
                return Response(200, {"keys": []})
            return self.authority_handler.token(req, tenant)
        if path == GRAPH_ROOT or path.startswith(GRAPH_ROOT + "/"):
            tok, why = self.authority_handler.check(req, "graph")
            if tok is None:
                return self._graph_401(why)
            fault = self._faulted(req, "graph")
            if fault:
                return fault
            if not set(tok.roles) & {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All",
                                     "ProfilePhoto.Read.All"}:
                return graph_error(403, "Authorization_RequestDenied",
                                   "Insufficient privileges to complete the operation.")
            return self.graph.handle(req, path[len(GRAPH_ROOT):])
        for root, flavor in ((SPO_MY, "online"), (SPO_SITE, "online"), (ONPREM_SITE, "onprem"),
                             (ONPREM_MY, "onprem"), ("", "onprem")):
            if path == root or path.startswith(root + "/"):
                if root == "" and not path.lower().startswith("/_layouts/"):
                    break
                if flavor == "online":
                    tok, why = self.authority_handler.check(req, "spo")
                    if tok is None:
                        return self._spo_401(why)
                    user = tok.client_id
                    fault = self._faulted(req, "sp")
                    if fault:
                        return fault
                    if not set(tok.roles) & {"Sites.Read.All", "Sites.FullControl.All", "User.Read.All",
                                             "Sites.Selected"}:
                        return self._sp_fault(req, 403, None, flavor)
                else:
                    user = self._ntlm(req, conn)
                    if isinstance(user, Response):
                        return user
                    fault = self._faulted(req, "sp", conn)
                    if fault:
                        return fault
                return self.sharepoint.handle(req, flavor, root, user)
        return Response(404, "<html><body><h1>404 - File or directory not found.</h1></body></html>",
                        "text/html; charset=utf-8")

    def _graph_subrequest(self, outer, item):
        """One $batch item, run with the outer request's token; faults match '/graph/v1.0' + url."""
        url = str(item.get("url") or "")
        if not url.startswith("/"):
            url = "/" + url
        method = str(item.get("method") or "GET").upper()
        headers = dict(outer.headers.items())
        req = Request(method, GRAPH_ROOT + url, headers, b"", outer.base, outer.scheme)
        fault = self._take_fault(req)
        if fault is not None:
            if fault.latency:
                time.sleep(fault.latency)
            if fault.status:
                return self._fault_response(req, fault, "graph")
        return self.graph.handle(req, req.path[len(GRAPH_ROOT):])

    def _faulted(self, req, kind, conn=None):
        fault = self._take_fault(req)
        if fault is None:
            return None
        if fault.latency:
            time.sleep(fault.latency)
        if fault.drop:
            return DROP
        if fault.malformed:
            return Response(200, b'{"d": {"AccountName": ', "application/json;odata=verbose;charset=utf-8")
        if fault.status is None:
            return None
        if fault.status == 401 and conn is not None:
            conn.ntlm_user, conn.ntlm_ctx = None, None
        return self._fault_response(req, fault, kind)

    def _fault_response(self, req, fault, kind):
        headers = dict(fault.headers)
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        status = fault.status
        if fault.body is not None:
            body = fault.body
            ctype = "application/json; charset=utf-8" if isinstance(body, (dict, list)) else "text/plain; charset=utf-8"
            return Response(status, body, ctype, headers)
        if kind == "graph":
            code, message = GRAPH_FAULTS.get(status, ("UnknownError", "Error %d" % status))
            if status == 404 and "/photo" in req.path.lower():
                code = "ImageNotFound"
            if status == 401:
                headers.setdefault("WWW-Authenticate", 'Bearer realm="", authorization_uri="%s/%s/oauth2/authorize", '
                                   'client_id="%s"' % (req.base, self.tenant_id, "00000003-0000-0000-c000-000000000000"))
            return graph_error(status, code, message, headers)
        if kind == "aad":
            body = {"error": "temporarily_unavailable" if status >= 500 or status == 429 else "invalid_request",
                    "error_description": "AADSTS50196: Injected test failure %d." % status, "error_codes": [50196]}
            return Response(status, body, "application/json; charset=utf-8", headers)
        flavor = "online" if req.path.startswith(SPO_SITE) else "onprem"
        return self._sp_fault(req, status, headers, flavor)

    def _sp_fault(self, req, status, headers, flavor):
        headers = dict(headers or {})
        if status == 401:
            if flavor == "onprem":
                headers["WWW-Authenticate"] = "NTLM"
                return Response(401, "<html><body>401 UNAUTHORIZED</body></html>", "text/html", headers)
            return self._spo_401("invalid", headers)
        try:
            mode = self.sharepoint.odata_mode(req, flavor)
        except ODataError:
            mode = "verbose"
        mode = "verbose" if mode == "atom" else mode
        code, message = SP_ERRORS.get(status, ("-2146232832, Microsoft.SharePoint.SPException", "Error %d" % status))
        return Response(status, error_body(mode, code, message), content_type(mode), headers)

    def _spo_401(self, why, headers=None):
        reasons = {"missing": "Access token is missing.", "invalid": "Invalid issuer or signature.",
                   "expired": "Invalid token: the token has expired.",
                   "audience": "Invalid audience Uri '%s'." % "https://graph.microsoft.com",
                   "secret": "Unsupported app only token."}
        headers = dict(headers or {})
        headers["WWW-Authenticate"] = (
            'Bearer realm="%s",client_id="00000003-0000-0ff1-ce00-000000000000",'
            'trusted_issuers="00000001-0000-0000-c000-000000000000@*,https://sts.windows.net/*/,'
            'https://login.microsoftonline.com/*/v2.0",authorization_uri="%s/common/oauth2/authorize"'
            % (self.tenant_id, self.url))
        headers["x-ms-diagnostics"] = '3000003;reason="%s";category="invalid_client"' % reasons.get(why, why)
        return Response(401, {"error_description": reasons.get(why, why)}, "application/json; charset=utf-8", headers)

    def _graph_401(self, why):
        reasons = {"missing": "Access token is empty.", "invalid": "Invalid JWT token. Token format not valid.",
                   "expired": "Lifetime validation failed, the token is expired.",
                   "audience": "Invalid audience."}
        return graph_error(401, "InvalidAuthenticationToken", reasons.get(why, why),
                           {"WWW-Authenticate": 'Bearer realm="", authorization_uri="%s/common/oauth2/authorize", '
                                                'client_id="00000003-0000-0000-c000-000000000000"' % self.url})

    # --- NTLM ------------------------------------------------------------------------------------
    def _ntlm(self, req, conn):
        """Connection-based NTLM like IIS: once a connection has authenticated, it stays authenticated."""
        auth = req.headers.get("Authorization") or ""
        scheme, dummy, blob = auth.partition(" ")
        challenge = {"WWW-Authenticate": "NTLM"}
        unauth = Response(401, "<html><body><h1>401 UNAUTHORIZED</h1></body></html>", "text/html", challenge)
        if scheme.lower() not in ("ntlm", "negotiate") or not blob.strip():
            if conn.ntlm_user:
                return conn.ntlm_user
            return unauth
        try:
            token = base64.b64decode(blob.strip())
        except ValueError:
            return unauth
        msg_type = int.from_bytes(token[8:12], "little") if len(token) >= 12 else 0
        try:
            with _NTLM_LOCK, _ntlm_user_file(self.ntlm_file):
                if msg_type == 1 or conn.ntlm_ctx is None:
                    bindings = None
                    if self.ntlm_epa == "required" and req.scheme == "https":
                        bindings = spnego.channel_bindings.GssChannelBindings(application_data=self._cbt)
                    conn.ntlm_ctx = spnego.server(protocol="ntlm", channel_bindings=bindings)
                    conn.ntlm_user = None
                out = conn.ntlm_ctx.step(token)
                complete = conn.ntlm_ctx.complete
                principal = conn.ntlm_ctx.client_principal if complete else None
        except spnego.exceptions.SpnegoError:
            conn.ntlm_ctx = None
            return unauth
        if not complete:
            return Response(401, "", "text/html",
                            {"WWW-Authenticate": "%s %s" % ("NTLM" if scheme.lower() == "ntlm" else "Negotiate",
                                                            base64.b64encode(out).decode("ascii"))})
        conn.ntlm_ctx = None
        user = principal.split("\\")[-1].split("@")[0].lower()
        conn.ntlm_user = user
        return user

    # --- control ---------------------------------------------------------------------------------
    def _control(self, req):
        what = req.path[len("/_control/"):].strip("/")
        try:
            data = json.loads(req.body.decode("utf-8")) if req.body else {}
        except ValueError:
            return Response(400, {"error": "body is not JSON"})
        try:
            if what == "faults" and req.method == "POST":
                items = data if isinstance(data, list) else [data]
                ids = [self.inject(**item) for item in items]
                return Response(200, {"ids": ids})
            if what == "faults" and req.method == "GET":
                with self._lock:
                    return Response(200, {"faults": [f.describe() for f in self.faults]})
            if what == "reset" and req.method == "POST":
                self.reset_faults()
                if data.get("log", True):
                    self.clear_log()
                if data.get("stats", True):
                    self.reset_stats()
                return Response(200, {"ok": True})
            if what == "log" and req.method == "GET":
                since = int(req.query.get("since", "0"))
                log = list(self.request_log)[since:]
                return Response(200, {"log": [list(e) for e in log], "next": since + len(log),
                                      "max_in_flight": self.max_in_flight})
            if what == "photo" and req.method == "POST":
                ident = data["account"]
                if data.get("remove"):
                    person = self.remove_photo(ident)
                else:
                    raw = base64.b64decode(data["data_b64"]) if data.get("data_b64") else None
                    person = self.set_photo(ident, seed=data.get("seed"), data=raw, size=data.get("size"))
                return Response(200, self._person_json(person))
            if what == "people" and req.method == "GET":
                ident = req.query.get("account")
                if ident:
                    return Response(200, self._person_json(self.person(ident)))
                return Response(200, {"people": [p.describe(hashes=False) for p in self.people.people]})
            if what == "batch" and req.method == "POST":
                if "mode" in data:
                    if data["mode"] not in ("auto", "on", "off"):
                        raise ValueError("mode must be auto, on or off")
                    self.batch = data["mode"]
                if "refusal" in data:
                    if int(data["refusal"]) not in (400, 404, 405, 501):
                        raise ValueError("refusal must be 400, 404, 405 or 501")
                    self.batch_refusal = int(data["refusal"])
                return Response(200, {"mode": self.batch, "refusal": self.batch_refusal, "batches": len(self.batch_log)})
            if what == "digests/expire" and req.method == "POST":
                self.expire_digests()
                return Response(200, {"ok": True})
            if what == "tokens/expire" and req.method == "POST":
                self.expire_tokens()
                return Response(200, {"ok": True})
            if what == "app" and req.method == "POST":
                if "roles" in data:
                    self.app_roles = list(data["roles"])
                return Response(200, {"roles": self.app_roles})
            if what == "describe" and req.method == "GET":
                return Response(200, self.describe(hashes=req.query.get("hashes", "explicit")))
        except (KeyError, TypeError, ValueError) as exc:
            return Response(400, {"error": "%s: %s" % (type(exc).__name__, exc)})
        return Response(404, {"error": "unknown control endpoint %s %s" % (req.method, what)})

    def _person_json(self, person):
        extra = {"picture_url_onprem": self.sharepoint.picture_url(person, "onprem", self.url),
                 "picture_url_online": self.sharepoint.picture_url(person, "online", self.url),
                 "etag": person.etag(), "media_etag": person.media_etag(),
                 "picture_timestamp": person.picture_timestamp()}
        return person.describe(extra, hashes=True)


def _people_from_dc(path):
    return people_from_dc(path)
