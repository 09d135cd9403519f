#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sharepoint_photo_info
short_description: Report the profile photos that SharePoint or Microsoft Graph hold for people
version_added: 0.1.0
description:
  - Reads people's profile photos from SharePoint (on-premises or Online) user profiles or from Microsoft
    Graph, for given accounts or for everybody, and reports per person whether a photo exists, its picture
    URL, a version token for change detection, its SHA-256, size and dimensions.
  - Optionally saves the photos into a folder, or returns their bytes base64-encoded.
  - Everybody (O(all=true)) is enumerated with people search on SharePoint (paging past 50,000 people) and
    with the C(/users) list on Graph; the C(Profile Pictures) folder is never listed (it fails above
    5,000 files).
  - Read-only; the directory is not touched.
author:
  - photosync.ad developers (@photosync)
extends_documentation_fragment:
  - photosync.ad.sharepoint
  - photosync.ad.sharepoint.graph
attributes:
  check_mode:
    support: full
    description: Read-only; runs unchanged in check mode (including O(download_dir)).
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
options:
  accounts:
    description:
      - The people to look up.
      - For O(sharepoint), a claims account (V(i:0#.w|EXAMPLE\\alice), V(i:0#.f|membership|alice@contoso.com)),
        V(EXAMPLE\\alice) (on-premises) or a UPN (Online); the claims prefix is added when missing.
      - For O(graph), a user principal name or an Entra object id.
      - Exactly one of O(accounts) and O(all) is required.
    type: list
    elements: str
  all:
    description:
      - Report everybody SharePoint people search (or Graph's user list) knows.
    type: bool
    default: false
  download_dir:
    description:
      - Save each photo into this existing folder, named after the account (V(EXAMPLE_alice.jpg),
        V(alice@contoso.com.jpg)). Names are made safe, so a file can never land outside the folder.
      - Files are written even in check mode (nothing is changed in SharePoint or the directory).
    type: path
  include_content:
    description:
      - Also return each photo's bytes, base64-encoded, as RV(photos[].content). Off by default so
        results and logs stay small.
    type: bool
    default: false
notes:
  - Give exactly one of O(sharepoint) and O(graph).
  - Errors that concern one person (for example a photo file that vanished) are reported in that person's
    RV(photos[].error); authentication and permission errors stop the task with a hint naming the right
    that is probably missing.
requirements:
  - requests
  - requests-ntlm (for NTLM)
  - requests-gssapi or requests-kerberos (for Kerberos)
  - msal and cryptography (for certificate app-only authentication)
  - Pillow (optional, for width and height)
seealso:
  - module: photosync.ad.thumbnail_photo_info
"""

EXAMPLES = r"""
- name: Which of these people have a photo in SharePoint (on-premises, NTLM)?
  photosync.ad.sharepoint_photo_info:
    sharepoint:
      site_url: https://sharepoint.example.com
      mysite_url: https://my.example.com
      username: EXAMPLE\svc-photos
      password: "{{ vault_svc_photos_password }}"
      ca_cert: /etc/pki/example-ca.pem
    accounts:
      - EXAMPLE\alice
      - EXAMPLE\bob
  register: sp

- name: Show the people without a photo
  ansible.builtin.debug:
    msg: "{{ sp.photos | rejectattr('has_photo') | map(attribute='account') | list }}"

- name: Save everybody's large SharePoint Online photo (app-only certificate)
  photosync.ad.sharepoint_photo_info:
    sharepoint:
      site_url: https://contoso.sharepoint.com
      flavor: online
      tenant_id: 00000000-0000-0000-0000-000000000000
      client_id: 11111111-1111-1111-1111-111111111111
      certificate_path: /etc/photosync/app.pem
    all: true
    download_dir: /srv/photos/sharepoint

- name: Graph photos of two users, bytes included
  photosync.ad.sharepoint_photo_info:
    graph:
      tenant_id: contoso.onmicrosoft.com
      client_id: 11111111-1111-1111-1111-111111111111
      certificate_path: /etc/photosync/app.pem
      photo_size: 96x96
    accounts:
      - alice@contoso.com
      - bob@contoso.com
    include_content: true
  register: graph_photos
"""

RETURN = r"""
photos:
  description: One entry per person, in the order of O(accounts) or of the enumeration.
  returned: always
  type: list
  elements: dict
  contains:
    account:
      description: The account as SharePoint names it (claims form), or the Graph user key.
      type: str
      sample: i:0#.w|EXAMPLE\alice
    display_name:
      description: The name in the profile, or null when not known.
      type: str
      sample: Alice Adams
    picture_url:
      description: The profile's picture URL (SharePoint) or the photo URL read (Graph), or null.
      type: str
      sample: https://my.example.com/User Photos/Profile Pictures/EXAMPLE_alice_MThumb.jpg
    has_photo:
      description: Whether the person has a photo; null when it could not be found out (see RV(photos[].error)).
      type: bool
    version:
      description:
        - A token that changes when the photo changes (SharePoint Online C(?t=), the HTTP ETag or Last-Modified,
          Graph C(mediaEtag)), or null.
      type: str
      sample: '"BA09D118"'
    sha256:
      description: SHA-256 of the photo bytes (hex), or null.
      type: str
    bytes:
      description: Size of the photo in bytes (0 without photo).
      type: int
      sample: 7243
    width:
      description: Width in pixels, or null (no photo, not decodable, or Pillow missing).
      type: int
      sample: 300
    height:
      description: Height in pixels, or null.
      type: int
      sample: 300
    content_type:
      description: The media type the service announced, or null.
      type: str
      sample: image/jpeg
    file:
      description: Where the photo was saved (with O(download_dir)), else null.
      type: str
      sample: /srv/photos/sharepoint/EXAMPLE_alice.jpg
    content:
      description: The photo bytes, base64-encoded.
      returned: when O(include_content=true) and the person has a photo
      type: str
    error:
      description: Why this person's photo could not be read.
      returned: when reading this person's photo failed
      type: str
"""

from ansible_collections.photosync.ad.plugins.module_utils import _graph, _module, _sharepoint, _sharepoint_info


def main():
    argument_spec = _sharepoint.sharepoint_spec()
    argument_spec.update(_graph.graph_spec())
    argument_spec.update(_sharepoint_info.photo_info_spec())
    module = _module.build(
        argument_spec, requires=("requests",),
        supports_check_mode=True,
        required_one_of=[("sharepoint", "graph"), ("accounts", "all")],
        mutually_exclusive=[("sharepoint", "graph"), ("accounts", "all")],
    )
    with _module.failures(module):
        photos = _sharepoint_info.collect_photo_info(module.params)
    module.exit_json(changed=False, photos=photos)


if __name__ == "__main__":
    main()
