# -*- coding: utf-8 -*-
"""The sync role (roles/sync) driven by ansible-playbook against the real test DC.

- Split scopes: two inventory hosts (both this machine, ``ansible_connection: local``) each sync
  their own OU in parallel; the role merges their reports on the controller into one set whose
  counts are the sums of the parts, and whose people are exactly the enabled people of both OUs
  as ``ldapsearch`` counts them.
- The demo's check-mode run (demo/sync.yml with demo/inventory.yml): progress lines, the merged
  HTML drift report, and a Chromium screenshot of it that is not blank.

Both run in check mode, so the seeded people the other tests rely on keep their photos (checked
with the independent reader).
"""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

import dcread

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ENABLED_PEOPLE = "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"


def ansible_playbook(args, tmp_path, extra_env=None):
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=os.environ["PHOTOSYNC_COLLECTIONS_ROOT"], ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_STDOUT_CALLBACK="default")
    env.update(extra_env or {})
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               "-e", "ansible_python_interpreter=%s" % sys.executable] + list(args)
    return subprocess.run(command, check=False, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)


def enabled_people(dc, base):
    """DNs of the enabled people below ``base``, read with ldapsearch (not the collection)."""
    proc = dcread._run("ldapsearch", ["-LLL", "-b", base, "-s", "sub", ENABLED_PEOPLE, "1.1"], dc, None)
    assert proc.returncode == 0, proc.stderr
    return sorted(entry[0] for entry in dcread.parse_ldif(proc.stdout))


def make_photos(folder, names):
    subprocess.run([sys.executable, os.path.join(REPO, "demo", "make_photos.py"), str(folder)] + list(names),
                   check=True, stdout=subprocess.PIPE)


def seeded_photos_untouched(dc, sams):
    for sam in sams:
        user = dc["users"][sam]
        data = dcread.read_photo(user["dn"], dc_info=dc)
        assert (hashlib.sha256(data).hexdigest() if data else None) == user["photo_sha256"], sam


@pytest.fixture(scope="module")
def sp_state(dc, tmp_path_factory):
    """sp.json of a SharePoint test server that knows every DC user: run-all's, or one of our own."""
    if os.environ.get("PHOTOSYNC_SP_STATE"):
        yield os.environ["PHOTOSYNC_SP_STATE"]
        return
    from sptest import SPTestServer
    state = tmp_path_factory.mktemp("sp")
    with SPTestServer(str(state), port=0, people_from_dc=os.path.join(dc["dir"], "dc.json")) as server:
        yield server.write_description()


SPLIT_INVENTORY = """
sync_scopes:
  vars:
    ansible_connection: local
    sync_photo_dir: {photos}
    sync_photo_name_templates: ["{{sAMAccountName}}.jpg"]
  hosts:
    scope-staff:
      sync_search_base: "{staff}"
    scope-contractors:
      sync_search_base: "{contractors}"
"""

SPLIT_PLAYBOOK = """
- name: Two scopes, two hosts, one merged report
  hosts: sync_scopes
  gather_facts: false
  module_defaults:
    group/photosync.ad.ldap:
      server: "{server}"
      ca_cert: "{ca_cert}"
      username: "{username}"
      password: "{password}"
  roles:
    - role: photosync.ad.sync
      vars:
        sync_report_dir: "{reports}"
        sync_progress_interval: 1
"""


def test_split_scopes_two_hosts_one_merged_report_with_summed_counts(dc, tmp_path):
    photos = tmp_path / "photos"
    # drift in both scopes: alice and grace get other photos, bob (no photo yet) gets one
    make_photos(photos, ["alice", "bob", "grace"])
    reports = tmp_path / "reports"
    (tmp_path / "inventory.yml").write_text(SPLIT_INVENTORY.format(
        photos=photos, staff=dc["ous"]["staff"], contractors=dc["ous"]["contractors"]))
    (tmp_path / "split.yml").write_text(SPLIT_PLAYBOOK.format(
        server=dc["server"], ca_cert=dc["ca_cert"], username=dc["admin"]["username"],
        password=dc["admin"]["password"], reports=reports))

    proc = ansible_playbook(["-i", "inventory.yml", "--forks", "2", "--check", "split.yml"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:]

    parts = {}
    for host, ou in (("scope-staff", "staff"), ("scope-contractors", "contractors")):
        with open(str(reports / "hosts" / host / "photosync-report.json")) as handle:
            parts[host] = json.load(handle)
        dns = sorted(p["dn"] for p in parts[host]["people"])
        assert dns == enabled_people(dc, dc["ous"][ou]), host
    with open(str(reports / "photosync-report.json")) as handle:
        merged = json.load(handle)

    statuses = set(merged["summary"]["counts"])
    for part in parts.values():
        statuses |= set(part["summary"]["counts"])
    for status in statuses:
        assert merged["summary"]["counts"].get(status, 0) == sum(
            p["summary"]["counts"].get(status, 0) for p in parts.values()), status
    both = enabled_people(dc, dc["ous"]["staff"]) + enabled_people(dc, dc["ous"]["contractors"])
    assert merged["summary"]["total"] == len(both) == sum(p["summary"]["total"] for p in parts.values())
    assert sorted(p["dn"] for p in merged["people"]) == sorted(both)
    by_user = {p["dn"]: p["status"] for p in merged["people"]}
    assert by_user[dc["users"]["alice"]["dn"]] == "update"
    assert by_user[dc["users"]["bob"]["dn"]] == "add"
    assert by_user[dc["users"]["grace"]["dn"]] == "update"
    for fmt in ("photosync-report.html", "photosync-report.junit.xml", "photosync-report.csv"):
        assert (reports / fmt).is_file(), fmt

    # one merged summary, and each host printed its own progress while it ran
    assert "photosync: 2 scopes merged" in proc.stdout
    assert "photosync [scope-staff] sync:" in proc.stdout
    assert "photosync [scope-contractors] sync:" in proc.stdout
    # check mode: nothing was written
    seeded_photos_untouched(dc, ["alice", "bob", "grace"])


def chromium_screenshot(tmp_path, html, png):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Debian's chromium package is needed (tests/setup-env installs it)"
    subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                    "--user-data-dir=%s" % (tmp_path / "chromium-profile"), "--window-size=1280,1400",
                    "--screenshot=%s" % png, "file://%s" % html],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)


def test_demo_check_run_writes_an_html_report_that_renders(dc, sp_state, tmp_path):
    out = tmp_path / "demo-output"
    people = sorted(sam for sam, u in dc["users"].items() if u["ou"] in ("staff", "people") and sam != "erin")
    make_photos(out / "photos", people)
    env = {"PHOTOSYNC_DEMO_OUTPUT": str(out), "PHOTOSYNC_SP_STATE": sp_state,
           "PHOTOSYNC_DC_SERVER": dc["server"], "PHOTOSYNC_DC_CA_CERT": dc["ca_cert"],
           "PHOTOSYNC_DC_USERNAME": dc["admin"]["username"], "PHOTOSYNC_DC_PASSWORD": dc["admin"]["password"]}
    # The demo's own playbook and inventory; OU=Bulk is left out (tests/demo seeds it, the test DC
    # of the other tests need not have it).
    proc = ansible_playbook(["-i", os.path.join(REPO, "demo", "inventory.yml"), "--check",
                             "--limit", "people-from-folder,contractors-from-sharepoint",
                             os.path.join(REPO, "demo", "sync.yml")], tmp_path, env)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "photosync [people-from-folder] sync:" in proc.stdout
    assert "photosync [contractors-from-sharepoint] sync:" in proc.stdout

    html = out / "reports-check" / "photosync-report.html"
    with open(str(out / "reports-check" / "photosync-report.json")) as handle:
        report = json.load(handle)
    assert report["summary"]["counts"]["update"] + report["summary"]["counts"]["add"] > 0
    assert html.stat().st_size > 1000

    png = tmp_path / "report.png"
    chromium_screenshot(tmp_path, html, png)
    from PIL import Image
    with Image.open(str(png)) as shot:
        shot = shot.convert("RGB")
        assert shot.size == (1280, 1400)
        colours = shot.getcolors(maxcolors=1 << 20)
        # a blank page is one colour; the report has text, a table and photos side by side
        assert colours is not None and len(colours) > 50, "the screenshot of %s is (nearly) blank" % html
        background = max(colours)[0]
        assert background < 0.97 * shot.size[0] * shot.size[1]
    seeded_photos_untouched(dc, ["alice", "grace", "heidi"])


REMOTE_INVENTORY = """
all:
  hosts:
    localhost:
      ansible_connection: local
    syncbox:
      # another host as far as the role can tell (it fetches the reports from there); really this machine
      ansible_connection: ansible.builtin.local
"""

REMOTE_PLAYBOOK = """
- name: The sync runs on a named sync host, the reports land on the controller
  hosts: localhost
  gather_facts: false
  roles:
    - role: photosync.ad.sync
      vars:
        sync_host: syncbox
        sync_server: ["{server}"]
        sync_ca_cert: "{ca_cert}"
        sync_username: "{username}"
        sync_password: "{password}"
        sync_search_base: "{contractors}"
        sync_photo_dir: "{photos}"
        sync_report_dir: "{reports}"
        sync_progress_interval: 1
"""


def test_sync_host_reports_fetched_to_the_controller_private(dc, tmp_path):
    photos = tmp_path / "photos"
    make_photos(photos, ["grace"])
    reports = tmp_path / "reports"
    (tmp_path / "inventory.yml").write_text(REMOTE_INVENTORY)
    (tmp_path / "remote.yml").write_text(REMOTE_PLAYBOOK.format(
        server=dc["server"], ca_cert=dc["ca_cert"], username=dc["admin"]["username"],
        password=dc["admin"]["password"], contractors=dc["ous"]["contractors"], photos=photos, reports=reports))
    proc = ansible_playbook(["-i", "inventory.yml", "--check", "remote.yml"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "photosync [localhost -> syncbox] sync:" in proc.stdout
    assert "Fetch the reports to the controller" in proc.stdout
    names = sorted(os.listdir(str(reports)))
    assert names == ["photosync-report.csv", "photosync-report.html", "photosync-report.json",
                     "photosync-report.junit.xml"]
    for name in names:
        assert os.stat(str(reports / name)).st_mode & 0o777 == 0o600, name
    with open(str(reports / "photosync-report.json")) as handle:
        report = json.load(handle)
    assert sorted(p["dn"] for p in report["people"]) == enabled_people(dc, dc["ous"]["contractors"])
    # the password never shows, whatever the module or the role print
    assert dc["admin"]["password"] not in proc.stdout
    seeded_photos_untouched(dc, ["grace"])
