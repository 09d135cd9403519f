# -*- coding: utf-8 -*-
"""Local file sources against the real test DC: restores take only what a backup wrote, file
sources read only bounded regular files, the folder source finds each person's file and never
reads outside its folder.  Every write (or its absence) is verified with dcread (ldapsearch)."""

import base64
import hashlib
import io
import json
import os

import ldap3
from PIL import Image

import dcread
from playrunner import run_playbook
from ansible_collections.photosync.ad.plugins.module_utils import _errors, _image, _ldap, _reconcile
from ansible_collections.photosync.ad.plugins.module_utils._source_file import FolderSource

PROFILE = _image.ImageProfile()


def compliant_jpeg(colour):
    """A 64x64 baseline JPEG without metadata: the pipeline keeps it byte for byte."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "JPEG", quality=85)
    data = out.getvalue()
    assert _image.normalize(data, PROFILE).data == data
    return data


def image_bytes(colour, fmt, size=(200, 150)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


PLAYBOOK = """
- name: File sources and restores against the test DC
  hosts: localhost
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
    - name: restore_from a file that no backup wrote (a stand-in for /etc/shadow)
      photosync.ad.thumbnail_photo:
        identity: "{{ victim }}"
        restore_from: "{{ secret_file }}"
      register: r_secret
      ignore_errors: true

    - name: restore_from a text file with a forged, matching sidecar
      photosync.ad.thumbnail_photo:
        identity: "{{ victim }}"
        restore_from: "{{ forged_file }}"
      register: r_forged
      ignore_errors: true

    - name: restore_from the same text file declared foreign
      photosync.ad.thumbnail_photo:
        identity: "{{ victim }}"
        restore_from: "{{ forged_file }}"
        restore_foreign: true
      register: r_forged_foreign
      ignore_errors: true

    - name: path that is a device
      photosync.ad.thumbnail_photo:
        identity: "{{ victim }}"
        path: /dev/zero
      register: r_zero
      ignore_errors: true

    - name: path over file_max_bytes
      photosync.ad.thumbnail_photo:
        identity: "{{ victim }}"
        path: "{{ big_file }}"
        file_max_bytes: 1000
      register: r_big
      ignore_errors: true

    - name: a relative path that does not exist
      photosync.ad.thumbnail_photo:
        identity: "{{ victim }}"
        path: photos/missing.jpg
      register: r_missing
      ignore_errors: true

    - name: restore_foreign writes an exported photo byte for byte
      photosync.ad.thumbnail_photo:
        identity: "{{ foreign_user }}"
        restore_from: "{{ foreign_file }}"
        restore_foreign: true
      register: r_foreign

    - name: content from the hint's own recipe (binary file on the controller)
      photosync.ad.thumbnail_photo:
        identity: "{{ content_user }}"
        content: "{{ lookup('ansible.builtin.file', content_file, rstrip=false) | b64encode }}"
      register: r_content

    - name: the same recipe keeps arbitrary binary bytes, trailing whitespace bytes included
      ansible.builtin.copy:
        dest: "{{ roundtrip_out }}"
        content: "{{ lookup('ansible.builtin.file', roundtrip_in, rstrip=false) | b64encode }}"
        mode: "0600"

    - name: Save the results for the test
      ansible.builtin.copy:
        dest: "{{ results_file }}"
        content: "{{ {'secret': r_secret, 'forged': r_forged, 'forged_foreign': r_forged_foreign,
                      'zero': r_zero, 'big': r_big, 'missing': r_missing, 'foreign': r_foreign,
                      'content': r_content} | to_json }}"
        mode: "0600"
"""


def test_restores_and_file_paths_through_the_module(dc, scratch_user, tmp_path):
    """Regression (issue 8, S2 and item 15): before the fix the secret file and the forged backup
    were written into thumbnailPhoto, /dev/zero was read without end, and the missing-file message
    showed the path unresolved."""
    victim_photo = compliant_jpeg("navy")
    victim = scratch_user(photo=victim_photo)
    foreign_user = scratch_user(photo=compliant_jpeg("olive"))
    content_user = scratch_user()

    secret = b"root:$6$rounds=5000$salt$hash:19000:0:99999:7:::\n"
    (tmp_path / "shadow").write_bytes(secret)
    forged = tmp_path / "forged.jpg"
    forged.write_bytes(secret)
    (tmp_path / "forged.jpg.json").write_text(json.dumps(dict(
        format=1, sha256=hashlib.sha256(secret).hexdigest(), bytes=len(secret),
        attribute="thumbnailPhoto")))
    (tmp_path / "big.jpg").write_bytes(image_bytes("red", "JPEG"))
    exported = compliant_jpeg("teal")
    (tmp_path / "exported.jpg").write_bytes(exported)
    content_photo = compliant_jpeg("maroon")
    (tmp_path / "content.jpg").write_bytes(content_photo)
    binary = bytes(range(256)) + b"\xff\xd8 \t\r\n"
    (tmp_path / "binary.bin").write_bytes(binary)
    play_dir = tmp_path / "play"
    play_dir.mkdir()
    (play_dir / "site.yml").write_text(PLAYBOOK)

    run = run_playbook(play_dir / "site.yml", dict(
        dc=dc, victim=victim["dn"], foreign_user=foreign_user["dn"], content_user=content_user["dn"],
        secret_file=str(tmp_path / "shadow"), forged_file=str(forged), big_file=str(tmp_path / "big.jpg"),
        foreign_file=str(tmp_path / "exported.jpg"), content_file=str(tmp_path / "content.jpg"),
        roundtrip_in=str(tmp_path / "binary.bin"), roundtrip_out=str(tmp_path / "binary.b64"),
        results_file=str(tmp_path / "results.json")), tmp_path)
    assert run.returncode == 0, run.stdout[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())

    assert results["secret"]["failed"] and "it has no sidecar" in results["secret"]["msg"]
    assert "restore_foreign" in results["secret"]["msg"]
    assert results["forged"]["failed"] and "not an image the pipeline reads" in results["forged"]["msg"]
    assert results["forged_foreign"]["failed"] and "not an image" in results["forged_foreign"]["msg"]
    assert results["zero"]["failed"] and "character device, not a regular file" in results["zero"]["msg"]
    assert results["big"]["failed"] and "more than file_max_bytes (1000 bytes)" in results["big"]["msg"]
    missing = results["missing"]["msg"]
    assert results["missing"]["failed"]
    assert "photos/missing.jpg (resolved to %s)" % (play_dir / "photos" / "missing.jpg") in missing
    assert "against the playbook's directory" in missing
    # the victim's photo is untouched by every refused task
    assert dcread.read_photo(victim["dn"]) == victim_photo

    assert results["foreign"]["changed"] and results["foreign"]["source"] == "foreign file %s" % (
        tmp_path / "exported.jpg")
    assert dcread.read_photo(foreign_user["dn"]) == exported
    assert results["content"]["changed"]
    assert dcread.read_photo(content_user["dn"]) == content_photo
    assert base64.b64decode((tmp_path / "binary.b64").read_text()) == binary


def test_restore_of_a_jpegphoto_backup_into_thumbnailphoto_is_refused(dc, scratch_user, tmp_path):
    """Regression (issue 8, S2): failed before the fix (the sidecar's attribute was not checked)."""
    from ansible_collections.photosync.ad.plugins.module_utils import _backup, _sources
    user_photo = compliant_jpeg("gray")
    created = scratch_user(photo=user_photo)
    settings = _ldap.ConnectionSettings(server=[dc["server"]], ca_cert=dc["ca_cert"],
                                        username=dc["admin"]["username"], password=dc["admin"]["password"])
    with _ldap.Directory(settings) as directory:
        user = directory.resolve(created["dn"])
        backup_file = _backup.write_backup(str(tmp_path / "b"), user, "jpegPhoto", compliant_jpeg("pink"), None,
                                           "removed")
        source = _sources.build_source({"restore_from": backup_file, "attribute": "thumbnailPhoto"})
        refused = _reconcile.reconcile_person(directory, user, [user_photo], _reconcile.fetch(source, user),
                                              PROFILE, _reconcile.Policy(), source=source)
        assert refused.status == "error" and not refused.written
        assert isinstance(refused.exception, _errors.BackupError)
        assert "holds a jpegPhoto value, not thumbnailPhoto" in refused.message()
        assert dcread.read_photo(created["dn"]) == user_photo
        # the matching attribute restores it, byte for byte
        good = _sources.build_source({"restore_from": backup_file, "attribute": "jpegPhoto"})
        restored = _reconcile.reconcile_person(directory, user, [user_photo], _reconcile.fetch(good, user),
                                               PROFILE, _reconcile.Policy(), source=good)
        assert restored.status == "update" and restored.written
    assert dcread.read_photo(created["dn"]) == compliant_jpeg("pink")


def test_folder_source_finds_each_persons_file_and_nothing_outside(dc, scratch_user, ldap_connect, tmp_path):
    """The per-person folder source over real directory entries: templates in order (sAMAccountName,
    mail with any extension, employeeID), no file means no photo, a mail value that points outside
    the folder is an error for that person and nothing is written for them."""
    photos = tmp_path / "photos"
    photos.mkdir()
    by_sam, by_mail, by_id, without, hostile = (scratch_user() for _i in range(5))
    admin = ldap_connect()
    admin.modify(by_id["dn"], {"employeeID": [(ldap3.MODIFY_REPLACE, ["E-%s" % by_id["sAMAccountName"][-6:]])]})
    admin.modify(hostile["dn"], {"mail": [(ldap3.MODIFY_REPLACE, ["../outside"])]})
    hostile_before = compliant_jpeg("black")
    dcread.write_photo_raw(hostile["dn"], hostile_before)

    files = {
        by_sam["sAMAccountName"] + ".jpg": image_bytes("red", "JPEG"),
        by_mail["mail"].upper() + ".PNG": image_bytes("green", "PNG"),
        "E-%s.webp" % by_id["sAMAccountName"][-6:]: image_bytes("blue", "WEBP"),
        "nobody.jpg": image_bytes("yellow", "JPEG"),
        "notes.txt": b"not a photo",
    }
    for name, data in files.items():
        (photos / name).write_bytes(data)
    (tmp_path / "outside.jpg").write_bytes(image_bytes("white", "JPEG"))

    source = FolderSource(str(photos), ["{sAMAccountName}.jpg", "{mail}.*", "{employeeID}.*"])
    names = [by_sam, by_mail, by_id, without, hostile]
    ldap_filter = "(|%s)" % "".join("(sAMAccountName=%s)" % u["sAMAccountName"] for u in names)
    settings = _ldap.ConnectionSettings(server=[dc["server"]], ca_cert=dc["ca_cert"],
                                        username=dc["admin"]["username"], password=dc["admin"]["password"])
    outcomes = {}
    origins = set()
    with _ldap.Directory(settings) as directory:
        people = []
        for person, raw in directory.find_users(ldap_filter, extra_attributes=source.attributes()):
            extra = {key: [v.decode("utf-8") for v in values] for key, values in raw.items()
                     if key.lower() == "employeeid"}
            people.append(person._replace(attributes=extra))
        assert len(people) == 5
        for person, fetched in source.prefetch(people):
            if isinstance(fetched, _errors.PhotoSyncError):
                outcomes[person.sam_account_name] = "error: %s" % fetched
                continue
            if fetched is None:
                outcomes[person.sam_account_name] = "no photo"
                continue
            origins.add(fetched.origin)
            current = directory.read_values(person.dn, "thumbnailPhoto")
            outcome = _reconcile.reconcile_person(directory, person, current, fetched, PROFILE,
                                                  _reconcile.Policy(), source=source)
            assert outcome.written
            outcomes[person.sam_account_name] = os.path.basename(fetched.origin)

    assert outcomes[by_sam["sAMAccountName"]] == by_sam["sAMAccountName"] + ".jpg"
    assert outcomes[by_mail["sAMAccountName"]] == by_mail["mail"].upper() + ".PNG"
    assert outcomes[by_id["sAMAccountName"]] == "E-%s.webp" % by_id["sAMAccountName"][-6:]
    assert outcomes[without["sAMAccountName"]] == "no photo"
    assert outcomes[hostile["sAMAccountName"]].startswith("error: ")
    assert "refusing the photo file name '../outside'" in outcomes[hostile["sAMAccountName"]]
    for user, data in ((by_sam, files[by_sam["sAMAccountName"] + ".jpg"]),
                       (by_mail, files[by_mail["mail"].upper() + ".PNG"])):
        assert dcread.read_photo(user["dn"]) == _image.normalize(data, PROFILE).data
    assert Image.open(io.BytesIO(dcread.read_photo(by_id["dn"]))).convert("RGB").getpixel((5, 5))[2] > 200
    assert dcread.read_photo(without["dn"]) is None
    assert dcread.read_photo(hostile["dn"]) == hostile_before
    unmatched = sorted(os.path.basename(key) for key in set(source.list_keys()) - origins)
    assert unmatched == ["nobody.jpg"]
