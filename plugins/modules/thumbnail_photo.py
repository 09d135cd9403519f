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
  identity:
    description:
      - The user whose photo this is.
      - A distinguishedName, objectGUID, objectSid, sAMAccountName (V(alice) or V(EXAMPLE\\alice)),
        userPrincipalName or mail address; see O(identity_type).
      - It must match exactly one person, or the task fails naming the matches.
    type: str
    required: true
  identity_type:
    description:
      - What O(identity) is. V(auto) decides by its form; see M(photosync.ad.thumbnail_photo_info).
    type: str
    default: auto
    choices: [auto, dn, objectGUID, objectSid, sAMAccountName, userPrincipalName, mail]
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
  path:
    description:
      - A photo file on the host that runs the module.
      - The module usually runs on the controller or an admin host with C(delegate_to) V(localhost),
        so this is a path there. Any image format the image pipeline reads is accepted.
      - A relative path is resolved on the host that runs the module - with a local connection (for
        example C(delegate_to) V(localhost)) against the playbook's directory, on a remote host against the
        remote user's home directory.
      - Only a regular file is read (a device such as C(/dev/zero), a FIFO or a folder is refused), and at
        most O(file_max_bytes) bytes.
    type: path
  file_max_bytes:
    description:
      - Refuse a photo file (O(path), O(restore_from)) larger than this many bytes, before reading it.
    type: int
    default: 20971520
  url:
    description:
      - Download the photo from this http or https URL.
      - The server must answer with an image content type (or C(application/octet-stream)) and bytes that
        start like an image; anything else (a login or error page) is refused before the rest is
        downloaded and before anything is written.
      - Redirects are followed to http and https URLs only. Credentials (O(url_username)/O(url_password),
        O(url_bearer_token), O(url_headers), cookies) are only ever sent to the scheme, host and port of
        O(url) itself, never after a redirect to another one.
      - A password written into the URL (V(https://user:password@host/...)) is used like O(url_password)
        and is never shown in messages; prefer O(url_password), which Ansible hides everywhere.
      - 429 and 503 answers are retried after C(Retry-After), server errors and dropped connections with a
        short backoff, within O(url_timeout).
    type: str
  url_headers:
    description:
      - Extra HTTP headers for O(url), sent only to O(url)'s own host (see O(url)).
      - Their values are treated as secrets and hidden in all output, so any short value also hides the
        same text elsewhere in the results. For credentials use O(url_bearer_token) or
        O(url_username)/O(url_password) instead.
    type: dict
    default: {}
  url_username:
    description:
      - User name for HTTP basic authentication to O(url).
    type: str
  url_password:
    description:
      - Password for HTTP basic authentication to O(url), with O(url_username).
    type: str
  url_bearer_token:
    description:
      - "A token sent as C(Authorization: Bearer <token>) to O(url)."
      - Mutually exclusive with O(url_username)/O(url_password).
    type: str
  url_timeout:
    description:
      - Seconds the whole O(url) download may take, retries and redirects included. A server that sends
        the answer a trickle at a time fails when this time is up.
    type: int
    default: 30
  url_max_bytes:
    description:
      - Refuse a download larger than this many bytes; the download stops at the limit.
    type: int
    default: 20971520
  url_validate_certs:
    description:
      - Validate the certificate of an https O(url). Keep it on; use O(url_ca_cert) for a private CA.
    type: bool
    default: true
  url_ca_cert:
    description:
      - PEM file of the CA that issued the certificate of O(url)'s server.
    type: path
  content:
    description:
      - The photo itself, base64-encoded.
    type: str
  restore_from:
    description:
      - A backup written by this collection (the photo file or its C(.json) sidecar) to put back.
      - The bytes are restored exactly as they were saved; the image options do not apply.
      - Only what a backup wrote is restored - the C(.json) sidecar must be beside the file and match it
        (SHA-256 and size) and O(attribute), and the bytes must be an image the image pipeline reads. Anything
        else (a file without a sidecar, a tampered file, a text file) fails the task and nothing is written.
      - To write a photo file that no backup wrote byte for byte, set O(restore_foreign=true).
    type: path
  restore_foreign:
    description:
      - Say that O(restore_from) is a photo file from elsewhere, not a backup of this collection - then no
        sidecar is needed. The bytes must still be an image the image pipeline reads, and they are written
        unchanged (the image options do not apply; use O(path) to process the photo instead).
    type: bool
    default: false
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

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.photosync.ad.plugins.module_utils import (
    _errors, _graph, _http, _image, _ldap, _reconcile, _sharepoint, _sources,
)

SOURCES = list(_sources.SOURCE_OPTIONS)


def argument_spec():
    spec = _ldap.ldap_connection_spec()
    spec.update(_image.image_argument_spec())
    spec.update(_sources.source_spec())
    spec.update(_sharepoint.sharepoint_spec())
    spec.update(_graph.graph_spec())
    spec.update(
        identity=dict(type="str", required=True),
        identity_type=dict(type="str", default="auto", choices=list(_ldap.IDENTITY_TYPES)),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        attribute=dict(type="str", default="thumbnailPhoto", choices=list(_ldap.PHOTO_ATTRIBUTES)),
        force=dict(type="bool", default=False),
        backup=dict(type="bool", default=False),
        backup_dir=dict(type="path"),
    )
    return spec


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[SOURCES],
        required_if=[
            ("state", "present", SOURCES, True),
            ("backup", True, ["backup_dir"]),
        ],
    )
    params = module.params
    if params["state"] == "absent" and any(params.get(name) is not None for name in SOURCES):
        module.fail_json(msg="state=absent removes the photo and takes no source; remove %s" % ", ".join(
            name for name in SOURCES if params.get(name) is not None))
    if not _ldap.HAS_LDAP3:
        module.fail_json(msg=missing_required_lib("ldap3"), exception=_ldap.LDAP3_IMPORT_ERROR)
    if not _image.HAS_PIL:
        module.fail_json(msg=missing_required_lib("Pillow"), exception=_image.PIL_IMPORT_ERROR)
    if (params["sharepoint"] or params["graph"]) and not _http.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=_http.REQUESTS_IMPORT_ERROR)

    try:
        profile = _image.ImageProfile.from_params(params)
        with _ldap.Directory(_ldap.ConnectionSettings.from_params(params)) as directory:
            user = directory.resolve(params["identity"], params["identity_type"])
            netbios = directory.netbios_domain() if _sources.needs_netbios_domain(params) else None
            source = _sources.build_source(params, netbios)
            if source is None and params["state"] == "present":
                # Ansible accepts a source whose value is null or "", typically a templated backup_file.
                raise _errors.ConfigurationError(
                    "state=present needs a photo source, but the one given is empty (null or '')",
                    hint="An empty restore_from usually comes from a backup_file of a task that took no "
                         "backup (check mode, or nothing to replace); guard it with "
                         "'when: result.backup_file is not none'")
            current = directory.read_values(user.dn, params["attribute"])
            desired, version = _reconcile.desired_photo(user, params["state"], source, profile)
            change = _reconcile.plan(user, params["attribute"], current, desired, source, version)
            backup_file = _reconcile.apply(directory, change, check_mode=module.check_mode, force=params["force"],
                                           backup_dir=params["backup_dir"] if params["backup"] else None)
    except _errors.PhotoSyncError as exc:
        module.fail_json(msg=str(exc), exception=traceback.format_exc())

    taken_from = (getattr(source, "sidecar", None) or {}).get("dn")
    if taken_from and taken_from.lower() != change.user.dn.lower():
        module.warn("restored a backup taken from %s onto %s" % (taken_from, change.user.dn))
    result = _reconcile.result(change, backup_file)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
