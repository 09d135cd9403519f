# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Where photos come from.  Paired one-to-one with the spec factories in
    # plugins/module_utils/_sources.py: DOCUMENTATION with source_spec() (one person's photo),
    # TEMPLATED with templated_source_spec() (a photo per person, for a bulk run), FILE_CLIENT with
    # file_client_spec() (how files are read), URL_CLIENT with url_client_spec() (how URLs are downloaded);
    # change both together.  SharePoint and Graph are
    # the photosync.ad.sharepoint fragments (sharepoint_spec()/graph_spec() in the same file).

    DOCUMENTATION = r"""
options:
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
  url:
    description:
      - Download the photo from this http or https URL (see the C(url_*) options).
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
      - A template ending in C(.*) matches any photo extension (C(.jpg), C(.png), ...).
      - Fields are LDAP attribute names of the person (C({sAMAccountName}), C({userPrincipalName}), C({mail}),
        C({objectGUID}), C({objectSid}), C({displayName}), or any other such as C({employeeID}), which is then
        read with the person). A template whose field a person lacks is skipped for them.
      - When no file has the exact name, names match case-insensitively. A value that would make an unsafe
        file name (separators, C(..), control characters) is an error for that person; no file outside
        O(photo_dir) is ever read. With C(.*), C(.jpg) is preferred when a person has several files.
    type: list
    elements: str
    default: ["{sAMAccountName}.*"]
  photo_url_template:
    description:
      - An http or https URL per person, with the person's LDAP attributes filled in (URL-encoded), for
        example V(https://hr.example.com/photos/{employeeID}.jpg) or V(https://hr.example.com/p/{sAMAccountName}).
        Fields may be used in the path and query only, never in the host.
      - HTTP 404 or 410 means the person has no photo; any other failure (after the retries) is an error for
        that person and never counts as "no photo". Credentials and redirects work as for C(url) of
        M(photosync.ad.thumbnail_photo).
    type: str
"""

    FILE_CLIENT = r"""
options:
  file_max_bytes:
    description:
      - Refuse a photo file (a single photo file, a backup, or a file in a photo folder) larger than this many
        bytes, before reading it.
    type: int
    default: 20971520
"""

    URL_CLIENT = r"""
options:
  url_headers:
    description:
      - Extra HTTP headers for URL downloads, sent only to the URL's own host, never after a redirect to another.
      - Their values are treated as secrets and hidden in all output, so any short value also hides the
        same text elsewhere in the results. For credentials use O(url_bearer_token) or
        O(url_username)/O(url_password) instead.
    type: dict
    default: {}
  url_username:
    description:
      - User name for HTTP basic authentication to the photo URLs.
    type: str
  url_password:
    description:
      - Password for HTTP basic authentication, with O(url_username).
    type: str
  url_bearer_token:
    description:
      - "A token sent as C(Authorization: Bearer <token>) to the photo URLs."
      - Mutually exclusive with O(url_username)/O(url_password).
    type: str
  url_timeout:
    description:
      - Seconds one download may take, retries and redirects included. A server that sends the answer a
        trickle at a time fails when this time is up.
    type: int
    default: 30
  url_max_bytes:
    description:
      - Refuse a download larger than this many bytes; the download stops at the limit.
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
