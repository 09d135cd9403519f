#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: thumbnail_photo
short_description: Set or remove one person's photo in Active Directory
version_added: 0.1.0
description:
  - Makes the C(thumbnailPhoto) (or C(jpegPhoto)) of one user what the task says - a photo taken from a
    file, a URL, base64 content, a backup, the user's SharePoint profile or Microsoft Graph, or no photo
    at all.
  - The photo is first turned into a small, correct JPEG by the image options (by default at most 96x96
    pixels and 10 KB, what Outlook, Teams and Exchange Online expect). A photo that already meets those
    limits is stored exactly as it is.
  - Idempotent on bytes - if the directory already holds exactly the photo that the source gives after
    processing, nothing is written and the task reports C(ok).
  - Writes are compare-and-swap - the value read is removed and the new one added in one LDAP modify,
    so if another tool changed the photo in between, the task fails instead of overwriting it
    (see O(force)).
  - With O(backup=true) the value being replaced or removed is saved to O(backup_dir) first; if that is
    not possible, nothing is written. O(restore_from) puts a backup back.
  - Photo bytes are never shown in results, logs or diffs.
author:
  - photosync.ad developers (@photosync)
extends_documentation_fragment:
  - photosync.ad.ldap
  - photosync.ad.target
  - photosync.ad.sources
  - photosync.ad.sources.file_client
  - photosync.ad.sources.url_client
  - photosync.ad.image
  - photosync.ad.sharepoint
  - photosync.ad.sharepoint.graph
attributes:
  check_mode:
    support: full
    description: Reports exactly what a real run would do (including the processed photo's size and hash)
      and changes nothing, backups included.
  diff_mode:
    support: full
    description: Shows a summary of the photo before and after (SHA-256, bytes, width, height, format),
      headed with the user and the attribute.
options:
  state:
    description:
      - V(present) sets the photo from the one source given (O(path), O(url), O(content), O(restore_from),
        O(sharepoint) or O(graph)).
      - If the source has no photo for the user (for example no picture in the SharePoint profile, or
        Graph answers C(ImageNotFound)), the task fails and nothing is changed; an outage of the source can
        therefore never clear photos.
      - V(absent) removes the photo; no source may be given.
    type: str
    default: present
    choices: [present, absent]
  attribute:
    description:
      - The attribute to manage. C(thumbnailPhoto) is what Outlook, Teams and Exchange read in Active
        Directory and holds at most 102400 bytes.
      - C(jpegPhoto) is for directories that have no C(thumbnailPhoto), such as OpenLDAP.
    type: str
    default: thumbnailPhoto
    choices: [thumbnailPhoto, jpegPhoto]
  force:
    description:
      - Write even if another writer changed the photo between this module's read and its write.
      - Without it such a race fails the task with a conflict and the other writer's photo stays.
    type: bool
    default: false
  backup:
    description:
      - Save the value being replaced or removed to O(backup_dir) before writing.
      - The backup is the exact bytes the directory held plus a JSON sidecar with the DN, attribute,
        SHA-256, time and the SHA-256 of what replaced it.
    type: bool
    default: false
  backup_dir:
    description:
      - Where backups are written, on the host that runs the module. Created with mode 0700 if missing.
      - Required with O(backup=true).
    type: path
requirements:
  - Pillow
  - requests for O(url), O(sharepoint) and O(graph); requests-ntlm and msal for O(sharepoint) and O(graph)
notes:
  - The account needs the right to write the attribute on the user, for example the delegated
    permission "Write thumbnailPhoto" on the users' OU. Users can usually write their own photo.
seealso:
  - module: photosync.ad.thumbnail_photo_info
  - module: photosync.ad.sharepoint_photo_info
"""

EXAMPLES = r"""
- name: Set Alice's photo from a file on the controller
  photosync.ad.thumbnail_photo:
    server: dc1.example.com
    ca_cert: /etc/pki/example-ca.pem
    username: svc-photos@example.com
    password: "{{ vault_svc_photos_password }}"
    identity: alice
    path: photos/alice.jpg
  delegate_to: localhost

- name: State the connection once for the whole play
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/photosync.ad.ldap:
      server: dc1.example.com
      ca_cert: /etc/pki/example-ca.pem
      username: svc-photos@example.com
      password: "{{ vault_svc_photos_password }}"
  tasks:
    - name: Set Bob's photo from the HR system, as a 96x96 square
      photosync.ad.thumbnail_photo:
        identity: bob@example.com
        url: https://hr.example.com/api/people/1234/photo
        url_bearer_token: "{{ hr_token }}"
        fit: cover

    - name: Remove Carol's photo, keeping a backup
      photosync.ad.thumbnail_photo:
        identity: carol
        state: absent
        backup: true
        backup_dir: /var/backups/ad-photos
      register: removed

    - name: Put Carol's photo back exactly as it was
      photosync.ad.thumbnail_photo:
        identity: carol
        restore_from: "{{ removed.backup_file }}"
      when: removed.backup_file is not none  # check mode takes no backup

    - name: Take Dora's photo from her SharePoint profile (on-premises, NTLM)
      photosync.ad.thumbnail_photo:
        identity: dora
        sharepoint:
          site_url: https://sharepoint.example.com
          auth: ntlm
          username: EXAMPLE\svc-photos
          password: "{{ vault_svc_photos_password }}"

    - name: Take Erik's photo from Microsoft 365 (Graph, app-only certificate)
      photosync.ad.thumbnail_photo:
        identity: erik
        graph:
          tenant_id: 00000000-0000-0000-0000-000000000000
          client_id: 11111111-1111-1111-1111-111111111111
          certificate_path: /etc/pki/photosync-app.pem

    - name: Use jpegPhoto in a directory that has no thumbnailPhoto (OpenLDAP)
      photosync.ad.thumbnail_photo:
        identity: uid=dave,ou=people,dc=example,dc=com
        attribute: jpegPhoto
        path: photos/dave.png

# See what would change without changing it:
#   ansible-playbook site.yml --check --diff
"""

RETURN = r"""
action:
  description: What was done (or, in check mode, would be done).
  returned: always
  type: str
  choices: [added, updated, removed, unchanged]
  sample: updated
dn:
  description: The user's distinguishedName.
  returned: always
  type: str
  sample: CN=Alice Adams,OU=Staff,DC=example,DC=com
sAMAccountName:
  description: The user's logon name.
  returned: always
  type: str
  sample: alice
attribute:
  description: The attribute managed.
  returned: always
  type: str
  sample: thumbnailPhoto
before:
  description: The photo before the task, or null if none was set.
  returned: always
  type: dict
  contains:
    sha256:
      description: SHA-256 of the bytes, hex.
      type: str
    bytes:
      description: Size in bytes.
      type: int
    width:
      description: Width in pixels (null if the value is not a decodable image).
      type: int
    height:
      description: Height in pixels (null if the value is not a decodable image).
      type: int
    format:
      description: Image format, V(unknown) if not decodable.
      type: str
  sample: {sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, bytes: 5210, width: 96,
           height: 96, format: JPEG}
after:
  description: The photo after the task (what was or would be written), or null when removed. Same keys as RV(before).
  returned: always
  type: dict
  sample: {sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae, bytes: 4821, width: 72,
           height: 96, format: JPEG}
backup_file:
  description: The backup taken of the old value; null when no backup was taken.
  returned: always
  type: str
  sample: /var/backups/ad-photos/carol.thumbnailPhoto.20261128T140312Z.2c26b46b68ff.jpg
source:
  description: Where the desired photo came from; null for O(state=absent).
  returned: always
  type: str
  sample: file photos/alice.jpg
source_version:
  description: A change token of the source when it has one (HTTP ETag, file time and size, SharePoint
    Online C(?t=), Graph mediaEtag).
  returned: always
  type: str
"""

from ansible_collections.photosync.ad.plugins.module_utils import (
    _errors, _image, _ldap, _module, _reconcile, _sources,
)

SOURCES = list(_sources.SOURCE_OPTIONS)
# What the action was called before the shared statuses existed; the result keeps these names.
ACTIONS = {"add": "added", "update": "updated", "remove": "removed", "in_sync": "unchanged"}


def argument_spec():
    spec = _ldap.ldap_connection_spec()
    spec.update(_sources.target_spec())
    spec.update(_sources.source_spec())
    spec.update(_image.image_argument_spec())
    spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        attribute=dict(type="str", default="thumbnailPhoto", choices=list(_ldap.PHOTO_ATTRIBUTES)),
        force=dict(type="bool", default=False),
        backup=dict(type="bool", default=False),
        backup_dir=dict(type="path"),
    )
    return spec


def result(outcome, attribute, diff):
    """The task result of one reconciled person (never the photo bytes)."""
    person = outcome.person
    header = "%s (%s) %s" % (_reconcile.user_name(person), person.dn, attribute)
    res = dict(
        changed=outcome.is_change, action=ACTIONS[outcome.status], dn=person.dn,
        sAMAccountName=person.sam_account_name, attribute=attribute, before=outcome.before, after=outcome.after,
        backup_file=outcome.backup_file, source=outcome.source, source_version=outcome.source_version)
    if diff:
        res["diff"] = dict(before=outcome.before or dict(present=False), after=outcome.after or dict(present=False),
                           before_header=header, after_header=header)
    return res


def main():
    module = _module.build(
        argument_spec(), requires=("ldap3", "Pillow"), supports_check_mode=True,
        mutually_exclusive=[SOURCES],
        required_if=[("state", "present", SOURCES, True), ("backup", True, ["backup_dir"])],
    )
    params = module.params
    if params["state"] == "absent" and any(params.get(name) is not None for name in SOURCES):
        module.fail_json(msg="state=absent removes the photo and takes no source; remove %s" % ", ".join(
            name for name in SOURCES if params.get(name) is not None))
    if params["sharepoint"] or params["graph"] or params["url"]:
        _module.require(module, "requests")

    with _module.failures(module):
        # Everything that can be refused is refused before the directory is contacted.
        profile = _image.ImageProfile.from_params(params)
        policy = _reconcile.Policy(params["state"], params["attribute"], params["force"], module.check_mode,
                                   params["backup_dir"] if params["backup"] else None)
        source = _sources.build_source(params)
        _module.hide_secrets(module, source)
        if source is None and params["state"] == "present":
            # Ansible accepts a source whose value is null or "", typically a templated backup_file.
            raise _errors.ConfigurationError(
                "state=present needs a photo source, but the one given is empty (null or '')",
                hint="An empty restore_from usually comes from a backup_file of a task that took no "
                     "backup (check mode, or nothing to replace); guard it with "
                     "'when: result.backup_file is not none'")
        settings = _ldap.ConnectionSettings.from_params(params)
        with _ldap.Directory(settings) as directory:
            person = directory.resolve(params["identity"], params["identity_type"])
            _sources.bind_to_directory(source, directory)
            current = directory.read_values(person.dn, params["attribute"])
            fetched = _reconcile.fetch(source, person) if source is not None else None
            outcome = _reconcile.reconcile_person(directory, person, current, fetched, profile, policy,
                                                  source=source)
    if outcome.status == "no_source":
        # One named person without a photo in the source is a failed task: nothing was changed.
        _module.fail(module, _errors.SourceError("%s has no photo for this user" % outcome.source,
                                                 user=_reconcile.user_name(person), hint="Nothing was changed"))
    if outcome.status not in ACTIONS:
        _module.fail(module, outcome.exception, tb=outcome.traceback)

    taken_from = (getattr(source, "sidecar", None) or {}).get("dn")
    if taken_from and taken_from.lower() != person.dn.lower():
        module.warn("restored a backup taken from %s onto %s" % (taken_from, person.dn))
    module.exit_json(**result(outcome, params["attribute"], module._diff))


if __name__ == "__main__":
    main()
