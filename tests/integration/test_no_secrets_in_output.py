"""No secret given to any option of any module shows up in the results or in ansible-playbook -vvv output.

Issue 8 item 8: a bearer token in url_headers came back in clear in invocation.module_args, and the
module's own EXAMPLES put it there.  Failed before the fix: 'hdr-S3cret-...' was in the registered
result and in the -vvv output of the url_headers task (url_headers was not no_log, and url_username,
url_password and url_bearer_token did not exist).

Real ansible-playbook -vvv against the real DC and the SharePoint/Graph test server; every module is
run with its secrets both in a task that succeeds (the secret was really used: the servers saw it) and
in one that fails (error paths are where secrets leak).  The results and the whole output are searched.
"""

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from playrunner import run_playbook
from sptestserver import SPTestServer

USER = "erin"

SECRETS = {
    "url_password": "url-pass-S3cret-7a1",
    "url_bearer_token": "url-bearer-S3cret-8b2",
    "url_header_token": "hdr-S3cret-9c3",
    "wrong_ldap_password": "Wr0ng-Ldap-S3cret-4d4",
    "wrong_sp_password": "Wr0ng-Sp-S3cret-5e5",
    "graph_token": "graph-t0ken-S3cret-6f6",
    "sp_token": "sp-t0ken-S3cret-7g7",
}

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    ldap: &ldap
      server: "{{ dc.server }}"
      ca_cert: "{{ dc.ca_cert }}"
      username: "{{ dc.admin.username }}"
  tasks:
    - name: thumbnail_photo_info with the LDAP password
      photosync.ad.thumbnail_photo_info:
        <<: *ldap
        password: "{{ dc.admin.password }}"
        identity: alice
      register: r_info_ok
      ignore_errors: true

    - name: thumbnail_photo_info with a wrong LDAP password
      photosync.ad.thumbnail_photo_info:
        <<: *ldap
        password: "{{ s.wrong_ldap_password }}"
        identity: alice
      register: r_info_bad
      ignore_errors: true

    - name: thumbnail_photo from a URL with basic authentication
      photosync.ad.thumbnail_photo:
        <<: *ldap
        password: "{{ dc.admin.password }}"
        identity: "{{ user }}"
        url: "{{ web }}/basic.jpg"
        url_username: photos
        url_password: "{{ s.url_password }}"
      check_mode: true
      register: r_url_basic
      ignore_errors: true

    - name: thumbnail_photo from a URL with a bearer token
      photosync.ad.thumbnail_photo:
        <<: *ldap
        password: "{{ dc.admin.password }}"
        identity: "{{ user }}"
        url: "{{ web }}/bearer.jpg"
        url_bearer_token: "{{ s.url_bearer_token }}"
      check_mode: true
      register: r_url_bearer
      ignore_errors: true

    - name: thumbnail_photo from a URL with an Authorization header (the old EXAMPLES)
      photosync.ad.thumbnail_photo:
        <<: *ldap
        password: "{{ dc.admin.password }}"
        identity: "{{ user }}"
        url: "{{ web }}/header.jpg"
        url_headers:
          Authorization: "Bearer {{ s.url_header_token }}"
      check_mode: true
      register: r_url_header
      ignore_errors: true

    - name: thumbnail_photo from a URL that refuses the password
      photosync.ad.thumbnail_photo:
        <<: *ldap
        password: "{{ dc.admin.password }}"
        identity: "{{ user }}"
        url: "{{ web }}/refused.jpg"
        url_username: photos
        url_password: "{{ s.url_password }}"
      register: r_url_refused
      ignore_errors: true

    - name: thumbnail_photo from SharePoint (NTLM password)
      photosync.ad.thumbnail_photo:
        <<: *ldap
        password: "{{ dc.admin.password }}"
        identity: "{{ user }}"
        sharepoint: "{{ sp_ok }}"
      check_mode: true
      register: r_sp_ok
      ignore_errors: true

    - name: sharepoint_photo_info with a wrong SharePoint password
      photosync.ad.sharepoint_photo_info:
        sharepoint: "{{ sp_bad }}"
        accounts: ["EXAMPLE\\\\alice"]
      register: r_sp_bad
      ignore_errors: true

    - name: sharepoint_photo_info with a SharePoint bearer token that is refused
      photosync.ad.sharepoint_photo_info:
        sharepoint: "{{ sp_token }}"
        accounts: ["alice@example.test"]
      register: r_sp_token
      ignore_errors: true

    - name: sharepoint_photo_info from Graph with the app certificate (private key in the PEM)
      photosync.ad.sharepoint_photo_info:
        graph: "{{ graph_cert }}"
        accounts: ["alice@example.test"]
      register: r_graph_cert
      ignore_errors: true

    - name: thumbnail_photo from Graph with a bearer token that is refused
      photosync.ad.thumbnail_photo:
        <<: *ldap
        password: "{{ dc.admin.password }}"
        identity: "{{ user }}"
        graph: "{{ graph_token }}"
      register: r_graph_token
      ignore_errors: true

    - name: Hand the results to the test
      ansible.builtin.copy:
        content: "{{ {'info_ok': r_info_ok, 'info_bad': r_info_bad, 'url_basic': r_url_basic,
                      'url_bearer': r_url_bearer, 'url_header': r_url_header, 'url_refused': r_url_refused,
                      'sp_ok': r_sp_ok, 'sp_bad': r_sp_bad, 'sp_token': r_sp_token,
                      'graph_cert': r_graph_cert, 'graph_token': r_graph_token} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
"""


class _PhotoServer(object):
    """/basic.jpg needs basic auth, /bearer.jpg and /header.jpg a bearer token, /refused.jpg always 401."""

    def __init__(self, photo):
        self.seen = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                auth = self.headers.get("Authorization") or ""
                owner.seen.append((self.path, auth))
                wanted = {
                    "/basic.jpg": "Basic " + base64.b64encode(
                        ("photos:" + SECRETS["url_password"]).encode()).decode(),
                    "/bearer.jpg": "Bearer " + SECRETS["url_bearer_token"],
                    "/header.jpg": "Bearer " + SECRETS["url_header_token"],
                }.get(self.path)
                ok = wanted is not None and auth == wanted
                body = photo if ok else b'{"error": "unauthorized"}'
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "image/jpeg" if ok else "application/json")
                if not ok:
                    self.send_header("WWW-Authenticate", 'Basic realm="photos"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def sp(dc, tmp_path_factory):
    server = SPTestServer(str(tmp_path_factory.mktemp("sp")), people_from_dc=os.path.join(dc["dir"], "dc.json"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def photo_server(sp):
    server = _PhotoServer(sp.person("%s\\%s" % (sp.domain, USER)).photos.sp("L"))
    yield server
    server.stop()


def _key_lines(path):
    """Distinctive lines of a PEM private key (base64 body lines)."""
    with open(path) as handle:
        lines = [line.strip() for line in handle if line.strip() and not line.startswith("-----")]
    return lines[1:4]


def test_no_secret_reaches_results_or_vvv_output(dc, sp, photo_server, tmp_path):
    graph_url = sp.urls()["graph_url"].rsplit("/v1.0", 1)[0]
    key_path = sp.client_certificate["private_key"]
    extra = dict(
        dc=dc, s=SECRETS, user=USER, web=photo_server.url, results_file=str(tmp_path / "results.json"),
        sp_ok=sp.ntlm_options(mysite_url=None),
        sp_bad=sp.ntlm_options(password=SECRETS["wrong_sp_password"], retries=0),
        sp_token=dict(site_url=sp.urls()["spo_site_url"], flavor="online", token=SECRETS["sp_token"],
                      ca_cert=sp.ca_cert, retries=0),
        graph_cert=sp.certificate_options(graph_url=graph_url),
        graph_token=dict(token=SECRETS["graph_token"], graph_url=graph_url, ca_cert=sp.ca_cert, retries=0),
    )
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    outcome = run_playbook(playbook, extra, tmp_path, extra_env={"ANSIBLE_VERBOSITY": "3"})
    output = outcome.stdout
    assert outcome.returncode == 0, output[-6000:]
    assert "ESTABLISH LOCAL CONNECTION" in output  # really -vvv
    results = json.loads((tmp_path / "results.json").read_text())
    text = json.dumps(results)

    # The tasks did what they were meant to (so each secret was really used, or really refused).
    for name in ("info_ok", "url_basic", "url_bearer", "url_header", "sp_ok", "graph_cert"):
        assert not results[name].get("failed"), (name, results[name].get("msg"))
    for name in ("info_bad", "url_refused", "sp_bad", "sp_token", "graph_token"):
        assert results[name].get("failed"), name
    assert results["graph_cert"]["photos"][0]["has_photo"] is True
    assert {path for path, auth in photo_server.seen if auth} >= {"/basic.jpg", "/bearer.jpg", "/header.jpg",
                                                                  "/refused.jpg"}
    # -vvv prints each result with invocation.module_args: the place the token used to be in clear
    assert '"module_args"' in output and '"url_headers"' in output and '"url_bearer_token"' in output

    secrets = dict(SECRETS)
    secrets["ldap_password"] = dc["admin"]["password"]
    secrets["sp_password"] = sp.ntlm_password
    for i, line in enumerate(_key_lines(key_path)):
        secrets["certificate_key_line_%d" % i] = line
    leaks = []
    for name, secret in sorted(secrets.items()):
        if secret in text:
            leaks.append("%s in the results" % name)
        if secret in output:
            leaks.append("%s in the -vvv output" % name)
    assert not leaks, leaks
