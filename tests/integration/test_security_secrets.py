"""Issue 12, secrets: passwords, private keys and tokens never appear in anything a run produces.

Real playbooks (ansible-playbook -vvvv --diff) run every module of the collection - thumbnail_photo,
thumbnail_photo_info, thumbnail_photo_sync, sharepoint_photo_info, thumbnail_photo_report - against the real
Samba DC and the SharePoint/Graph test server, with known unique secrets in every secret option (working ones
and wrong ones, so failure messages and tracebacks are covered too).  Then everything the runs produced is
searched: ansible's output, the registered results, report_dir, backup_dir, cache_dir, the progress file and
download_dir.  Photo bytes may appear only where include_content asked for them.  The reports and backups
must be owner-only.  The promises and the test that proves each are listed in docs/security.md.
"""

import base64
import http.server
import json
import os
import stat
import threading
import uuid

import pytest
import requests

import dcread
from playrunner import run_playbook
from sptestserver import SPTestServer

SP_PASSWORD = "Sp-Secret-%s" % uuid.uuid4().hex
URL_TOKEN = "url-bearer-%s" % uuid.uuid4().hex
URL_PASSWORD = "url-header-%s" % uuid.uuid4().hex
WRONG_LDAP = "Wrong-Ldap-%s" % uuid.uuid4().hex
WRONG_SP = "Wrong-Sp-%s" % uuid.uuid4().hex
WRONG_TOKEN = "wrong-token-%s" % uuid.uuid4().hex
URL_BASIC = "url-basic-%s" % uuid.uuid4().hex
PEOPLE = ("erin", "frank")

PLAYBOOK = r"""
- hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/photosync.ad.ldap:
      server: "{{ dc.server }}"
      ca_cert: "{{ dc.ca_cert }}"
      username: "{{ dc.admin.username }}"
      password: "{{ dc.admin.password }}"
  tasks:
    - name: One person from a URL with an Authorization header
      photosync.ad.thumbnail_photo:
        identity: erin
        url: "{{ web_url }}/erin.jpg"
        url_headers:
          Authorization: "Bearer {{ url_token }}"
          X-Api-Key: "{{ url_password }}"
        backup: true
        backup_dir: "{{ out }}/backups"
      register: r_url

    - name: One person from a URL with url_bearer_token
      photosync.ad.thumbnail_photo:
        identity: erin
        url: "{{ web_url }}/erin.jpg"
        url_bearer_token: "{{ url_token }}"
      register: r_url_bearer

    - name: One person from a URL with url_username/url_password (the server wants a token instead)
      photosync.ad.thumbnail_photo:
        identity: erin
        url: "{{ web_url }}/erin.jpg"
        url_username: reader
        url_password: "{{ url_basic }}"
      register: r_url_basic
      ignore_errors: true

    - name: SharePoint Online with an app-only token (refused, as SharePoint Online refuses secret-made tokens)
      photosync.ad.thumbnail_photo_sync:
        identities: "{{ people }}"
        sharepoint: "{{ sp_token }}"
      register: r_sp_token
      ignore_errors: true

    - name: One person from SharePoint (NTLM password)
      photosync.ad.thumbnail_photo:
        identity: erin
        sharepoint: "{{ sp_ntlm }}"
        backup: true
        backup_dir: "{{ out }}/backups"
      register: r_sp

    - name: One person from Graph (bearer token)
      photosync.ad.thumbnail_photo:
        identity: frank
        graph: "{{ graph_token }}"
        backup: true
        backup_dir: "{{ out }}/backups"
      register: r_graph_token

    - name: One person from Graph (certificate with its private key)
      photosync.ad.thumbnail_photo:
        identity: erin
        graph: "{{ graph_cert }}"
        backup: true
        backup_dir: "{{ out }}/backups"
      register: r_graph_cert

    - name: A wrong LDAP password
      photosync.ad.thumbnail_photo:
        identity: erin
        password: "{{ wrong_ldap }}"
        state: absent
      register: r_wrong_ldap
      ignore_errors: true

    - name: A wrong SharePoint password
      photosync.ad.thumbnail_photo:
        identity: erin
        sharepoint: "{{ sp_ntlm | combine({'password': wrong_sp}) }}"
      register: r_wrong_sp
      ignore_errors: true

    - name: A wrong Graph token
      photosync.ad.thumbnail_photo_sync:
        identities: "{{ people }}"
        graph: "{{ graph_token | combine({'token': wrong_token}) }}"
      register: r_wrong_token
      ignore_errors: true

    - name: Read the photos without content
      photosync.ad.thumbnail_photo_info:
        identities: "{{ people }}"
      register: r_info

    - name: Read the photos with content (the one place photo bytes belong)
      photosync.ad.thumbnail_photo_info:
        identities: [erin]
        include_content: true
      register: r_info_content

    - name: SharePoint profiles (NTLM password), downloaded
      photosync.ad.sharepoint_photo_info:
        accounts: "{{ people }}"
        sharepoint: "{{ sp_ntlm }}"
        download_dir: "{{ out }}/downloads"
      register: r_spinfo

    - name: SharePoint profiles with a wrong password
      photosync.ad.sharepoint_photo_info:
        accounts: "{{ people }}"
        sharepoint: "{{ sp_ntlm | combine({'password': wrong_sp}) }}"
      register: r_spinfo_wrong
      ignore_errors: true

    - name: Sync from SharePoint (check mode, reports)
      photosync.ad.thumbnail_photo_sync:
        identities: "{{ people }}"
        sharepoint: "{{ sp_ntlm }}"
        report_dir: "{{ out }}/reports-check"
        report_formats: [json, html, junit, csv]
      check_mode: true
      register: r_sync_check

    - name: Sync from Graph (certificate), with backups, cache, progress and every report
      photosync.ad.thumbnail_photo_sync:
        identities: "{{ people }}"
        graph: "{{ graph_cert }}"
        backup_dir: "{{ out }}/backups"
        cache_dir: "{{ out }}/cache"
        progress_file: "{{ out }}/progress/progress.json"
        report_dir: "{{ out }}/reports"
        report_formats: [json, html, junit, csv]
      register: r_sync

    - name: Sync from a URL template with an Authorization header
      photosync.ad.thumbnail_photo_sync:
        identities: "{{ people }}"
        photo_url_template: "{{ web_url }}/{sAMAccountName}.jpg"
        url_headers:
          Authorization: "Bearer {{ url_token }}"
        backup_dir: "{{ out }}/backups"
        report_dir: "{{ out }}/reports-url"
      register: r_sync_url

    - name: Render the sync's report again
      photosync.ad.thumbnail_photo_report:
        src: ["{{ out }}/reports/photosync-report.json"]
        dest: "{{ out }}/reports-rendered"
        formats: [html, junit, csv]
      register: r_report

    - name: Hand the results to the test
      ansible.builtin.copy:
        content: "{{ {'r_url': r_url, 'r_url_bearer': r_url_bearer, 'r_url_basic': r_url_basic,
                      'r_sp_token': r_sp_token, 'r_sp': r_sp, 'r_graph_token': r_graph_token, 'r_graph_cert': r_graph_cert,
                      'r_wrong_ldap': r_wrong_ldap, 'r_wrong_sp': r_wrong_sp, 'r_wrong_token': r_wrong_token,
                      'r_info': r_info, 'r_info_content': r_info_content, 'r_spinfo': r_spinfo,
                      'r_spinfo_wrong': r_spinfo_wrong, 'r_sync_check': r_sync_check, 'r_sync': r_sync,
                      'r_sync_url': r_sync_url, 'r_report': r_report} | to_json }}"
        dest: "{{ out }}/results.json"
        mode: "0600"
"""


class _Photos(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.server.headers_seen.append(dict(self.headers))
        if self.headers.get("Authorization") != "Bearer %s" % URL_TOKEN:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.server.photo
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web(dc):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Photos)
    server.daemon_threads = True
    server.headers_seen = []
    server.photo = dcread.read_photo(dc["users"]["alice"]["dn"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sp(dc, tmp_path_factory):
    server = SPTestServer(str(tmp_path_factory.mktemp("sp-secrets")), ntlm_password=SP_PASSWORD,
                          people_from_dc=os.path.join(dc["dir"], "dc.json"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def restore_people(dc):
    saved = dict((sam, dcread.read_photo(dc["users"][sam]["dn"])) for sam in PEOPLE)
    yield
    for sam, data in saved.items():
        if data is None:
            dcread.clear_photo_raw(dc["users"][sam]["dn"])
        else:
            dcread.write_photo_raw(dc["users"][sam]["dn"], data)


def graph_token(sp, scope="https://graph.microsoft.com/.default"):
    """A real bearer token from the test server's token endpoint (client-credentials grant)."""
    answer = requests.post(sp.token_endpoint, data=dict(
        grant_type="client_credentials", client_id=sp.client_id, client_secret=sp.client_secret,
        scope=scope), verify=sp.ca_cert, timeout=30)
    answer.raise_for_status()
    return answer.json()["access_token"]


def private_key_lines(path):
    with open(path) as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("-----")]


def everything_produced(out, stdout):
    """(name, text) of every output: ansible's output and every file below ``out``."""
    yield "ansible-playbook output", stdout
    for root, _dirs, files in os.walk(out):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                yield path, handle.read().decode("latin-1")


def test_no_secret_appears_in_any_output_of_any_module(dc, sp, web, restore_people, tmp_path):
    """Failed before the fix: url_headers (an Authorization header, an API key) was echoed by -vvvv."""
    token = graph_token(sp)
    sp_token = graph_token(sp, sp.spo_scope)
    key_lines = private_key_lines(sp.client_certificate["private_key"])
    graph_url = sp.urls()["graph_url"].rsplit("/v1.0", 1)[0]
    out = tmp_path / "out"
    out.mkdir()
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    extra = dict(
        dc=dc, out=str(out), people=list(PEOPLE), wrong_ldap=WRONG_LDAP, wrong_sp=WRONG_SP, wrong_token=WRONG_TOKEN,
        url_token=URL_TOKEN, url_password=URL_PASSWORD, url_basic=URL_BASIC,
        sp_token=dict(site_url=sp.urls()["spo_site_url"], flavor="online", auth="token", token=sp_token,
                      ca_cert=sp.ca_cert), web_url="http://127.0.0.1:%d" % web.server_address[1],
        sp_ntlm=sp.ntlm_options(auth="ntlm", mysite_url=None),
        graph_token=dict(auth="token", token=token, graph_url=graph_url, ca_cert=sp.ca_cert),
        graph_cert=sp.certificate_options(graph_url=graph_url))
    assert extra["sp_ntlm"]["password"] == SP_PASSWORD
    outcome = run_playbook(playbook, extra, tmp_path, extra_env=dict(ANSIBLE_VERBOSITY="4", ANSIBLE_DIFF_ALWAYS="1"))
    stdout = outcome.stdout
    assert outcome.returncode == 0, stdout[-5000:]
    (tmp_path / "vars.json").unlink()  # the test's own input, not an output
    results = json.loads((out / "results.json").read_text())

    # The secrets were really used: the runs that had them worked, the wrong ones failed.
    assert web.headers_seen and any(h.get("Authorization") == "Bearer %s" % URL_TOKEN for h in web.headers_seen)
    assert any(h.get("Authorization", "").startswith("Basic ") for h in web.headers_seen)
    for name in ("r_url", "r_url_bearer", "r_sp", "r_graph_token", "r_graph_cert", "r_info", "r_spinfo", "r_sync_check",
                 "r_sync", "r_sync_url", "r_report"):
        assert not results[name].get("failed"), (name, results[name].get("msg"))
    for name in ("r_wrong_ldap", "r_wrong_sp", "r_wrong_token", "r_spinfo_wrong", "r_url_basic", "r_sp_token"):
        assert results[name].get("failed"), name
    assert "<ESTABLISH LOCAL CONNECTION" in stdout or "ESTABLISH" in stdout  # -vvvv really was on

    secrets = dict(ldap_password=dc["admin"]["password"], wrong_ldap=WRONG_LDAP, sp_password=SP_PASSWORD,
                   wrong_sp=WRONG_SP, graph_token=token, wrong_token=WRONG_TOKEN, url_token=URL_TOKEN,
                   url_password=URL_PASSWORD, url_basic=URL_BASIC, sharepoint_token=sp_token,
                   url_basic_header=base64.b64encode(("reader:" + URL_BASIC).encode()).decode())
    for i, line in enumerate(key_lines):
        secrets["private_key_line_%d" % i] = line
    found = []
    produced = list(everything_produced(str(out), stdout))
    assert len(produced) > 20, [name for name, dummy in produced]
    for where, text in produced:
        for name, secret in secrets.items():
            if secret in text:
                found.append((name, where))
    assert found == [], "secrets found in outputs: %s" % found
    print("secrets searched: %d in %d outputs; found: 0" % (len(secrets), len(produced)))

    # Photo bytes only where include_content asked for them: "/9j/" starts every base64 JPEG.
    content = results["r_info_content"]["users"][0]["content"]
    assert base64.b64decode(content)[:2] == b"\xff\xd8"
    leaks = [name for name in results if name != "r_info_content" and "/9j/" in json.dumps(results[name])]
    assert leaks == [], "photo bytes in results that did not ask for them: %s" % leaks
    assert stdout.count("/9j/") == stdout.count(content) >= 1  # only the include_content task's result

    # Reports, backups and the cache are owner-only (download_dir holds what SharePoint shows everybody, and
    # follows the umask).
    checked = 0
    for folder in ("reports", "reports-check", "reports-rendered", "reports-url", "backups", "cache", "progress"):
        top = out / folder
        assert top.is_dir(), folder
        for root, _dirs, files in os.walk(str(top)):
            assert stat.S_IMODE(os.stat(root).st_mode) & 0o077 == 0, root
            for name in files:
                mode = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
                assert mode & 0o077 == 0, (os.path.join(root, name), oct(mode))
                checked += 1
    assert checked >= 10


INSECURE_PLAYBOOK = r"""
- hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/photosync.ad.ldap:
      server: "{{ dc.server }}"
      username: "{{ dc.admin.username }}"
      password: "{{ dc.admin.password }}"
      validate_certs: false
  tasks:
    - name: thumbnail_photo
      photosync.ad.thumbnail_photo:
        identity: erin
        sharepoint: "{{ sp_ntlm }}"
      register: r_photo
    - name: thumbnail_photo_info
      photosync.ad.thumbnail_photo_info:
        identities: [erin]
      register: r_info
    - name: thumbnail_photo_sync
      photosync.ad.thumbnail_photo_sync:
        identities: [erin]
        graph: "{{ graph }}"
      register: r_sync
    - name: sharepoint_photo_info
      photosync.ad.sharepoint_photo_info:
        accounts: [erin]
        sharepoint: "{{ sp_ntlm }}"
      register: r_spinfo
    - name: thumbnail_photo_info, a second run warns again
      photosync.ad.thumbnail_photo_info:
        identities: [erin]
      register: r_info_again
    - name: Hand the results to the test
      ansible.builtin.copy:
        content: "{{ {'r_photo': r_photo, 'r_info': r_info, 'r_sync': r_sync, 'r_spinfo': r_spinfo,
                      'r_info_again': r_info_again} | to_json }}"
        dest: "{{ out }}/results.json"
        mode: "0600"
"""


def test_validate_certs_false_works_but_every_module_warns_every_run(dc, sp, restore_people, tmp_path):
    """validate_certs: false for LDAP (every module that connects) and for SharePoint/Graph: the runs work
    (the certificates are not checked: no CA is given) and each task warns, every time.  Failed before the
    fix: no module warned."""
    graph_url = sp.urls()["graph_url"].rsplit("/v1.0", 1)[0]
    out = tmp_path / "out"
    out.mkdir()
    playbook = tmp_path / "play.yml"
    playbook.write_text(INSECURE_PLAYBOOK)
    sp_ntlm = sp.ntlm_options(auth="ntlm", mysite_url=None, validate_certs=False)
    sp_ntlm.pop("ca_cert")
    graph = sp.certificate_options(graph_url=graph_url, validate_certs=False)
    graph.pop("ca_cert")
    outcome = run_playbook(playbook, dict(dc=dc, out=str(out), sp_ntlm=sp_ntlm, graph=graph), tmp_path)
    assert outcome.returncode == 0, outcome.stdout[-5000:]
    results = json.loads((out / "results.json").read_text())
    for name, result in sorted(results.items()):
        assert not result.get("failed"), (name, result.get("msg"))
        text = json.dumps(result.get("warnings"))
        if name != "r_spinfo":
            assert "validate_certs=false" in text, (name, text)
        if name in ("r_photo", "r_sync", "r_spinfo"):
            assert ("sharepoint.validate_certs=false" in text or "graph.validate_certs=false" in text), (name, text)
    assert "[WARNING]: validate_certs=false" in outcome.stdout  # shown (ansible prints a repeated one once)
