#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: thumbnail_photo_info
short_description: Report the photos that Active Directory holds for people
version_added: 0.1.0
description:
  - Reads C(thumbnailPhoto) (or C(jpegPhoto)) of the users you name, or of every user an LDAP filter
    matches, and reports per user whether a photo is set, its SHA-256, size, dimensions and format, and
    when and on which domain controller it was last changed.
  - Can export each photo to a file, for a look or as a backup.
  - Photo bytes are never part of the result unless O(include_content=true).
  - This module only reads the directory, so it runs in full in check mode.
author:
  - photosync.ad developers (@photosync)
extends_documentation_fragment:
  - photosync.ad.ldap
attributes:
  check_mode:
    support: full
    description: Read-only; runs unchanged in check mode (including O(export_dir)).
  diff_mode:
    support: none
    description: Reports only; there is nothing to diff.
options:
  identities:
    description:
      - The users to report on, in this order.
      - Each is a distinguishedName, an objectGUID, an objectSid (V(S-1-5-21-...)), a sAMAccountName
        (V(alice) or V(EXAMPLE\\alice)), a userPrincipalName or a mail address; see O(identity_type).
      - A name that matches nobody, or more than one person, gets an entry of its own with
        RV(users[].found=false) and the reason in RV(users[].lookup_error); the other names are reported
        as usual. Set O(fail_on_unresolved=true) to fail the task at the end in that case.
      - A name with a control character (such as a NUL or a newline) fails the task before anything is read.
      - V(DOMAIN\\user) must name the directory's own domain (its NetBIOS name); another domain's name
        matches nobody.
      - Exactly one of O(identities) and O(filter) is required.
    type: list
    elements: str
    aliases: [identity]
  fail_on_unresolved:
    description:
      - Fail the task if any entry of O(identities) matched nobody or more than one object.
      - The task fails only after every entry was reported (and exported), and the message lists the
        names that did not resolve.
      - When V(false), such names are only reported, per entry, and listed in RV(unresolved).
    type: bool
    default: false
  identity_type:
    description:
      - What the entries of O(identities) are.
      - V(auto) decides per entry. A GUID or SID is known by its form, a DN if it looks like V(CN=...,DC=...),
        userPrincipalName or mail if it has an V(@), and anything else is a sAMAccountName.
    type: str
    default: auto
    choices: [auto, dn, objectGUID, objectSid, sAMAccountName, userPrincipalName, mail]
  filter:
    description:
      - An LDAP filter selecting the users to report on, under O(search_base).
      - It is combined with a filter for people, so computers are never included.
      - For example V((thumbnailPhoto=*\)) lists everybody who has a photo, and
        V((memberOf=CN=Sales,OU=Groups,DC=example,DC=com\)) the members of a group.
    type: str
  scope:
    description:
      - How deep below O(search_base) the O(filter) search looks.
    type: str
    default: subtree
    choices: [subtree, onelevel, base]
  attribute:
    description:
      - The attribute to read. C(thumbnailPhoto) is what Outlook, Teams and Exchange use in Active Directory.
      - C(jpegPhoto) is for directories without C(thumbnailPhoto), such as OpenLDAP.
    type: str
    default: thumbnailPhoto
    choices: [thumbnailPhoto, jpegPhoto]
  include_metadata:
    description:
      - Report when and where the photo was last changed, from the attribute's replication metadata
        (C(replPropertyMetaData)). Costs one extra read per user.
    type: bool
    default: true
  include_content:
    description:
      - Return each photo base64-encoded in RV(users[].content). Off by default because results are logged.
    type: bool
    default: false
  export_dir:
    description:
      - Write each photo that is set to a file in this directory, on the host that runs the module.
      - Created if missing. Existing files of the same name are replaced atomically.
      - Files are byte-identical to the directory's value.
    type: path
  export_name:
    description:
      - File name template for O(export_dir), with fields C({sAMAccountName}), C({userPrincipalName}),
        C({mail}), C({objectGUID}), C({objectSid}), C({displayName}), and C({ext}).
      - C({ext}) is what the stored value is. V(jpg), V(png), V(gif) and so on for an image, V(txt) for
        a value that is text (for example base64 stored instead of the bytes), and V(bin) for anything else.
      - A value that is not an image is never written with an image extension. With a template such as
        V({objectGUID}.jpg) its file gets V(.txt) or V(.bin) instead of V(.jpg).
      - Characters that are not safe in a file name (path separators, control characters) become V(_),
        and leading dots are removed, so a name can never leave O(export_dir).
      - Two users whose names render the same fail the task rather than overwrite each other.
    type: str
    default: "{sAMAccountName}.{ext}"
requirements:
  - Pillow
seealso:
  - module: photosync.ad.thumbnail_photo
"""

EXAMPLES = r"""
- name: Report the photo of two people
  photosync.ad.thumbnail_photo_info:
    server: dc1.example.com
    ca_cert: /etc/pki/example-ca.pem
    username: svc-photos@example.com
    password: "{{ vault_svc_photos_password }}"
    identities:
      - alice
      - bob@example.com
  delegate_to: localhost
  register: photos

- name: Show who has no photo
  ansible.builtin.debug:
    msg: "{{ photos.users | rejectattr('has_photo') | map(attribute='sAMAccountName') | list }}"

- name: Set the connection once for every photosync.ad module in the play
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/photosync.ad.ldap:
      server: dc1.example.com
      ca_cert: /etc/pki/example-ca.pem
      username: svc-photos@example.com
      password: "{{ vault_svc_photos_password }}"
  tasks:
    - name: Export every photo under OU=Staff to files named by objectGUID
      photosync.ad.thumbnail_photo_info:
        search_base: OU=Staff,DC=example,DC=com
        filter: (thumbnailPhoto=*)
        export_dir: /srv/photo-export
        export_name: "{objectGUID}.jpg"
        include_metadata: false
"""

RETURN = r"""
users:
  description: One entry per user, in the order of O(identities) or as the search returned them.
  returned: always
  type: list
  elements: dict
  contains:
    identity:
      description: The entry of O(identities) this result is for; null for O(filter) results.
      type: str
      sample: alice
    found:
      description: Whether the identity matched exactly one person. When V(false), only RV(users[].identity),
        RV(users[].ambiguous) and RV(users[].lookup_error) are set.
      type: bool
    ambiguous:
      description: Whether the identity matched more than one object.
      type: bool
    lookup_error:
      description: Why the identity did not resolve (no match, or several); null when it did.
      type: str
      sample: "no user matches sAMAccountName 'no-such-user' under DC=example,DC=test"
    dn:
      description: The user's distinguishedName.
      type: str
      sample: CN=Alice Adams,OU=Staff,OU=People,DC=example,DC=test
    sAMAccountName:
      description: The logon name.
      type: str
      sample: alice
    userPrincipalName:
      description: The UPN, or null.
      type: str
      sample: alice@example.test
    mail:
      description: The mail address, or null.
      type: str
    objectGUID:
      description: The objectGUID in its usual text form.
      type: str
      sample: 0d6c3a8e-6b9d-4a4e-9d8a-2f8f1a0b6c11
    attribute:
      description: The attribute that was read.
      type: str
      sample: thumbnailPhoto
    has_photo:
      description: Whether the attribute is set.
      type: bool
    value_count:
      description: How many values the attribute has (more than one only for jpegPhoto).
      type: int
    sha256:
      description: SHA-256 of the stored bytes (hex), or null.
      type: str
      sample: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
    bytes:
      description: Size of the stored value in bytes (0 when unset).
      type: int
      sample: 4821
    width:
      description: Width in pixels, or null when unset or not decodable.
      type: int
      sample: 96
    height:
      description: Height in pixels, or null when unset or not decodable.
      type: int
      sample: 96
    format:
      description: The image format found (V(JPEG), V(PNG), ...), V(unknown) if the value is not an image
        that can be decoded, null when unset.
      type: str
      sample: JPEG
    valid:
      description: Whether the value decodes as an image; null when unset.
      type: bool
    error:
      description: Why the value could not be decoded (for example base64 text stored instead of bytes).
      type: str
    last_change:
      description:
        - When and where the attribute was last changed, from replication metadata.
        - Null when O(include_metadata=false) or the attribute was never set.
      type: dict
      contains:
        version:
          description: How many times the attribute has been written (set and cleared both count).
          type: int
          sample: 3
        changed:
          description: Originating change time, UTC, ISO 8601.
          type: str
          sample: "2026-11-28T14:03:12Z"
        originating_dc:
          description: DNS name of the domain controller where the change was made, if known.
          type: str
          sample: dc1.example.test
        originating_invocation_id:
          description: Invocation id of the originating DC's database.
          type: str
        originating_usn:
          description: Update sequence number on the originating DC.
          type: int
        local_usn:
          description: Update sequence number on the DC that answered.
          type: int
    file:
      description: The exported file, when O(export_dir) is set and a photo exists.
      type: str
      sample: /srv/photo-export/alice.jpg
    content:
      description: The photo, base64-encoded. Only with O(include_content=true).
      type: str
      returned: when O(include_content=true) and a photo is set
unresolved:
  description: The entries of O(identities) that matched nobody or more than one object, as given.
  returned: always
  type: list
  elements: str
  sample: [no-such-user]
"""

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _ldap, _module, _photo_info


def main():
    argument_spec = _ldap.ldap_connection_spec()
    argument_spec.update(_photo_info.info_spec())
    module = _module.build(
        argument_spec, requires=("ldap3", "Pillow"),
        supports_check_mode=True,
        required_one_of=[("identities", "filter")],
        mutually_exclusive=[("identities", "filter")],
    )
    users = None
    try:
        settings = _ldap.ConnectionSettings.from_params(module.params)
        with _ldap.Directory(settings) as directory:
            users = _photo_info.collect(directory, module.params)
        _photo_info.check_unresolved(users, module.params)
    except _errors.PhotoSyncError as exc:
        extra = dict(users=users, unresolved=_photo_info.unresolved(users)) if users is not None else {}
        _module.fail(module, exc, **extra)
    module.exit_json(changed=False, users=users, unresolved=_photo_info.unresolved(users))


if __name__ == "__main__":
    main()
