# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Where photos come from.  Paired one-to-one with the spec factories in
    # plugins/module_utils/_sources.py: DOCUMENTATION with source_spec() (one person's photo),
    # TEMPLATED with templated_source_spec() (a photo per person, for a bulk run), URL_CLIENT with
    # url_client_spec() (how URLs are downloaded); change both together.  SharePoint and Graph are
    # the photosync.ad.sharepoint fragments (sharepoint_spec()/graph_spec() in the same file).

    DOCUMENTATION = r"""
options:
  path:
    description:
      - A photo file on the host that runs the module.
      - The module usually runs on the controller or an admin host with C(delegate_to) V(localhost),
        so this is a path there. Any image format the image pipeline reads is accepted.
    type: path
  url:
    description:
      - Download the photo from this http or https URL (see the C(url_*) options).
      - The server must answer with an image content type (or C(application/octet-stream)); an HTML page
        (a login or error page) is refused before anything is written.
    type: str
  content:
    description:
      - The photo itself, base64-encoded.
    type: str
  restore_from:
    description:
      - A backup written by this collection (the photo file or its C(.json) sidecar) to put back.
      - The bytes are restored exactly as they were saved; the image options do not apply, and the
        sidecar's SHA-256 must match the file.
    type: path
"""

    TEMPLATED = r"""
options:
  photo_dir:
    description:
      - A folder of photo files, one per person, on the host that runs the module. Each person's file is
        found by O(photo_name_templates).
      - Files that match nobody in scope are listed in RV(unmatched_source_keys); a file that matches
        several people is written to nobody and listed in RV(ambiguous_source_keys).
    type: path
  photo_name_templates:
    description:
      - File names to try for each person, in order; the first that exists is the person's photo.
      - Fields C({sAMAccountName}), C({userPrincipalName}), C({mail}), C({objectGUID}), C({objectSid}),
        C({displayName}). A template ending in C(.*) matches any photo extension (C(.jpg), C(.png), ...).
      - Names are matched case-insensitively. Characters that are unsafe in file names become V(_), so a
        name can never leave O(photo_dir). A template whose field a person lacks is skipped for them.
    type: list
    elements: str
    default: ["{sAMAccountName}.*"]
  photo_url_template:
    description:
      - An http or https URL per person, with the fields of O(photo_name_templates) filled in
        (URL-encoded), for example V(https://hr.example.com/photos/{sAMAccountName}.jpg).
      - HTTP 404 or 410 means the person has no photo; any other failure is an error for that person and
        never counts as "no photo".
    type: str
"""

    URL_CLIENT = r"""
options:
  url_headers:
    description:
      - Extra HTTP headers for URL downloads, for example an C(Authorization) header.
    type: dict
    default: {}
  url_timeout:
    description:
      - Seconds to wait for a URL download.
    type: int
    default: 30
  url_max_bytes:
    description:
      - Refuse a download larger than this many bytes.
    type: int
    default: 20971520
  url_validate_certs:
    description:
      - Validate the certificate of an https URL. Keep it on; use O(url_ca_cert) for a private CA.
    type: bool
    default: true
  url_ca_cert:
    description:
      - PEM file of the CA that issued the certificate of the URL's server.
    type: path
"""
