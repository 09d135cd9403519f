#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: thumbnail_photo_sync
short_description: Bring every person's photo in Active Directory into the state a source declares
version_added: 0.1.0
description:
  - Reconciles the C(thumbnailPhoto) (or C(jpegPhoto)) of everybody in scope - every person account under
    O(search_base), the people an LDAP O(filter) selects, or a list of O(identities) - with one source, which is
    a folder of files named after the people, a URL template, SharePoint user profiles or Microsoft Graph.
  - Each person takes the same path as M(photosync.ad.thumbnail_photo) - the source photo is turned into a
    small, correct JPEG by the image options, compared byte for byte with the directory, backed up if asked
    and written with compare-and-swap - and ends with one status - V(in_sync), V(add), V(update), V(remove),
    V(no_source), V(conflict), V(invalid_source) or V(error) - and the reasons why.
  - One person's problem never stops the others. Errors that would repeat for everybody (bad options, TLS,
    authentication, a source answering 401 or 403) stop the run, before anything is written when they show
    up while planning.
  - A source that fails for a person (an error, a timeout, HTTP 5xx) is an V(error) for that person,
    never "no photo", so an outage can never clear photos, even with O(missing_source=remove).
  - The whole scope is planned before the first write, so O(max_changes) can stop a run that would change
    too much, and check mode reports exactly what the real run then does.
  - People are read page by page with their photo; only the photos of people who are not in sync are
    kept, in a private temporary folder, until the run ends.
  - Photo bytes are never shown in results or logs; the reports (O(report_dir)) contain them on purpose and
    are written readable by their owner only.
author:
  - photosync.ad developers (@photosync)
extends_documentation_fragment:
  - photosync.ad.ldap
  - photosync.ad.target.scope
  - photosync.ad.sources.templated
  - photosync.ad.sources.file_client
  - photosync.ad.sources.url_client
  - photosync.ad.sharepoint
  - photosync.ad.sharepoint.graph
  - photosync.ad.image
attributes:
  check_mode:
    support: full
    description: Plans every person exactly like the real run, checks the write right for every change,
      writes reports, and changes nothing in the directory (no backups either).
  diff_mode:
    support: none
    description: Use RV(not_in_sync) or the reports to see per person what changes.
options:
  attribute:
    description:
      - The attribute to manage. C(thumbnailPhoto) is what Outlook, Teams and Exchange read and holds at most
        102400 bytes; C(jpegPhoto) is for directories without it, such as OpenLDAP.
    type: str
    default: thumbnailPhoto
    choices: [thumbnailPhoto, jpegPhoto]
  force:
    description:
      - Write even if another writer changed a photo between this run's read and its write.
      - Without it such a race makes that person a V(conflict) and the other writer's photo stays.
    type: bool
    default: false
  missing_source:
    description:
      - What to do with a person the source has no photo for (no file, HTTP 404, no SharePoint picture,
        Graph C(ImageNotFound)).
      - V(keep) leaves their photo as it is (status V(no_source)).
      - V(remove) removes their photo (status V(remove); V(in_sync) if they have none). A source that fails
        is never "no photo", so an outage removes nothing.
    type: str
    default: keep
    choices: [keep, remove]
  max_changes:
    description:
      - A circuit breaker. The most people a run may change (add, update or remove), as a count (V(25)) or a
        percentage of the people in scope (V(10%), rounded down).
      - If more would change, nothing at all is written, the task fails, and RV(circuit_breaker) says how
        many would have changed. Check mode trips the same way.
      - Not set, there is no limit.
    type: str
  backup_dir:
    description:
      - Save every value that is replaced or removed into this folder first (the exact bytes and a JSON
        sidecar; see M(photosync.ad.thumbnail_photo)). Created with mode 0700 if missing.
      - A backup that cannot be written makes that person an V(error); their photo is not touched.
    type: path
  cache_dir:
    description:
      - Keep normalized photos here, keyed by the SHA-256 of the source bytes, the image options and the
        Pillow version, so an unchanged source is not decoded again in the next run.
      - A damaged or foreign entry is ignored and replaced, never used. The folder may be deleted at any time.
      - Its size is bounded (256 MiB); the least recently used entries go first.
    type: path
  state_dir:
    description:
      - Keep change-tracking state here (one small owner-only file per scope) so that the next run reads only
        what changed since this one, the way Microsoft documents polling Active Directory for changes
        (C(uSNChanged)). People whose directory entry moved, new people, and people whose source photo changed
        (file size and modification time, or the source bytes' hash) are reconciled, everybody else is reported
        in sync without reading their photo.
      - Any doubt makes the run read everything, for example no state yet, a damaged state file or one of another scope,
        source or image options, another DC (USNs are per DC), a DC restored from backup (another
        C(invocationId)), a filter on C(memberOf). O(verify=full) forces it.
      - Not used with O(identities). Not set, every run reads everything. See the performance guide in the
        collection's docs for what a warm run cannot see.
    type: path
  verify:
    description:
      - V(changed) reads only what changed since the last run recorded in O(state_dir); V(full) reads every
        person and source (and records the result for the next run).
    type: str
    choices: [changed, full]
    default: changed
  write_connections:
    description:
      - How many LDAP connections write at the same time (each binds once). Directories write faster over a
        few connections than over one; 1 writes one person after the other.
    type: int
    default: 4
  report_dir:
    description:
      - Write the run's reports into this folder (created with mode 0700), one file per O(report_formats),
        for example C(photosync-report.json). See the drift reports guide in the collection's docs.
      - Reports list every person; the HTML report shows the current and the desired photo side by side, so
        the files are readable by their owner only.
    type: path
  report_formats:
    description:
      - Which reports to write into O(report_dir). V(json) for machines (versioned schema), V(html) for people,
        V(junit) so CI shows each person not in sync as a failing test, V(csv) for spreadsheets.
    type: list
    elements: str
    default: [json]
    choices: [json, html, junit, csv]
  report_include_photos:
    description:
      - Put the photos of the people not in sync into the JSON and HTML reports.
    type: bool
    default: true
  progress_file:
    description:
      - Rewrite this file while the run goes on, atomically, as JSON C({"phase", "processed", "total",
        "updated_at"}), so a long run can be watched (for example with C(watch cat)).
    type: path
  max_listed:
    description:
      - How many people not in sync RV(not_in_sync) lists (and how many source keys the key lists hold).
        The reports always list everybody.
    type: int
    default: 50
  fail_on_error:
    description:
      - Fail the task at the end (after every other person was reconciled and the reports were written) if any
        person ended as V(error), V(invalid_source) or V(conflict).
    type: bool
    default: true
requirements:
  - ldap3
  - Pillow
  - requests for O(photo_url_template), O(sharepoint) and O(graph); requests-ntlm and msal for O(sharepoint)
    and O(graph)
notes:
  - The account needs the right to write the attribute on everybody in scope, for example the delegated
    permission "Write thumbnailPhoto" on their OUs. A person it may not write is an V(error); the others go on.
  - Give exactly one source - O(photo_dir), O(photo_url_template), O(sharepoint) or O(graph).
seealso:
  - module: photosync.ad.thumbnail_photo
  - module: photosync.ad.thumbnail_photo_info
"""

EXAMPLES = r"""
- name: Every person under OU=Staff gets the photo from the HR export folder
  photosync.ad.thumbnail_photo_sync:
    server: dc1.example.com
    ca_cert: /etc/pki/example-ca.pem
    username: svc-photos@example.com
    password: "{{ vault_svc_photos_password }}"
    search_base: OU=Staff,DC=example,DC=com
    photo_dir: /srv/hr-photos
    photo_name_templates:
      - "{sAMAccountName}.*"
      - "{mail}.jpg"
    backup_dir: /var/backups/ad-photos
    max_changes: 10%
  delegate_to: localhost

- name: Nightly from SharePoint, removing photos SharePoint no longer has, with reports for CI
  photosync.ad.thumbnail_photo_sync:
    filter: (department=Sales)
    sharepoint:
      site_url: https://sharepoint.example.com
      username: EXAMPLE\svc-photos
      password: "{{ vault_svc_photos_password }}"
    missing_source: remove
    backup_dir: /var/backups/ad-photos
    cache_dir: /var/cache/photosync
    report_dir: "{{ playbook_dir }}/reports"
    report_formats: [json, html, junit]
  module_defaults:
    group/photosync.ad.ldap:
      server: dc1.example.com
      ca_cert: /etc/pki/example-ca.pem
      username: svc-photos@example.com
      password: "{{ vault_svc_photos_password }}"

- name: Drift report only - what would change, without changing it
  photosync.ad.thumbnail_photo_sync:
    identities: [alice, bob@example.com]
    graph:
      tenant_id: 00000000-0000-0000-0000-000000000000
      client_id: 11111111-1111-1111-1111-111111111111
      certificate_path: /etc/pki/photosync-app.pem
    fail_on_error: false
  check_mode: true
  register: drift

- name: Show who is not in sync and why
  ansible.builtin.debug:
    msg: "{{ drift.not_in_sync | map(attribute='user') | zip(drift.not_in_sync | map(attribute='reasons')) | list }}"
"""

RETURN = r"""
changed:
  description: Whether any photo was written (in check mode - would be written).
  returned: always
  type: bool
counts:
  description: How many people ended with each status (every status is present, 0 when none).
  returned: always
  type: dict
  sample: {in_sync: 9120, add: 31, update: 12, remove: 0, no_source: 840, conflict: 0, invalid_source: 2, error: 1}
total:
  description: How many people were in scope.
  returned: always
  type: int
  sample: 10006
written:
  description: How many photos were written or removed (0 in check mode).
  returned: always
  type: int
not_in_sync:
  description:
    - The people whose status is not V(in_sync), at most O(max_listed) of them (the reports have all).
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The person's sAMAccountName (else UPN, else DN; the name given in O(identities) if it matched nobody).
      type: str
    dn:
      description: The person's distinguishedName (null when an identity matched nobody).
      type: str
    display_name:
      description: The person's displayName.
      type: str
    status:
      description: V(add), V(update), V(remove), V(no_source), V(conflict), V(invalid_source) or V(error).
      type: str
    reasons:
      description: Why the person is not in sync, in short phrases (for example V(no photo set),
        V(300x200 is larger than 96x96), V(differs from the source photo)).
      type: list
      elements: str
    before:
      description: The photo in the directory (sha256, bytes, width, height, format), or null.
      type: dict
    after:
      description: The photo the person gets (same keys), or null when it is removed or unknown.
      type: dict
    source:
      description: The source that was asked.
      type: str
    source_version:
      description: The source's change token for this photo, when it has one.
      type: str
    backup_file:
      description: The backup taken of the old value, or null.
      type: str
    written:
      description: Whether this person's photo was written.
      type: bool
    error:
      description: What went wrong for this person, or null.
      type: str
    hint:
      description: What to do about it, or null.
      type: str
  sample:
    - {user: bob, dn: "CN=Bob Brown,OU=Staff,DC=example,DC=com", display_name: Bob Brown, status: add,
       reasons: [no photo set], before: null,
       after: {sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae, bytes: 4821, width: 72,
               height: 96, format: JPEG},
       source: folder /srv/hr-photos, source_version: 1764312000-48211, backup_file: null, written: true,
       error: null, hint: null}
not_in_sync_truncated:
  description: Whether RV(not_in_sync) was cut at O(max_listed).
  returned: always
  type: bool
unmatched_source_keys:
  description:
    - Files in O(photo_dir) that matched nobody in scope (at most O(max_listed)). Not computed for
      O(identities), nor for sources that cannot list their keys (URL template, SharePoint, Graph).
  returned: always
  type: list
  elements: str
ambiguous_source_keys:
  description:
    - Source keys (a file, a URL, a profile) that several people resolved to. Nobody gets such a photo;
      each of those people is an V(error).
  returned: always
  type: list
  elements: str
reports:
  description: The reports written, by format.
  returned: always
  type: dict
  sample: {json: /srv/reports/photosync-report.json, html: /srv/reports/photosync-report.html}
retries:
  description: How many HTTP requests to the source were retried (throttling, 5xx, dropped connections).
  returned: always
  type: int
throttle_wait_seconds:
  description: Seconds spent waiting before those retries (Retry-After and backoff).
  returned: always
  type: float
circuit_breaker:
  description: O(max_changes) at work.
  returned: always
  type: dict
  contains:
    limit:
      description: The most changes this run was allowed, or null without O(max_changes).
      type: int
    would_change:
      description: How many people needed a change.
      type: int
    tripped:
      description: Whether that was more than the limit, so nothing was written.
      type: bool
cache:
  description: Normalization cache use (hits, misses).
  returned: when O(cache_dir) is set
  type: dict
parallel:
  description: How the work was spread.
  returned: success
  type: dict
  contains:
    image_workers:
      description: Worker processes (or threads) that normalize photos.
      type: int
    image_mode:
      description: V(process), V(thread) or V(inline); null when no photo needed normalizing.
      type: str
    write_connections:
      description: LDAP connections that write at the same time.
      type: int
change_tracking:
  description: What change tracking did (O(state_dir)).
  returned: when O(state_dir) is set and O(identities) is not
  type: dict
  contains:
    mode:
      description: V(incremental) or V(full).
      type: str
    reason:
      description: Why everything was read (null for an incremental run).
      type: str
    read:
      description: People read from the directory with their photo.
      type: int
    carried:
      description: People reported in sync without a read (nothing moved for them).
      type: int
    source_checked:
      description: People of the last run whose source was checked for a change.
      type: int
    dropped:
      description: People of the last run that left the scope.
      type: int
duration_seconds:
  description: How long the run took.
  returned: always
  type: float
"""

from ansible_collections.photosync.ad.plugins.module_utils import _image, _ldap, _module, _sources, _sync

SOURCES = list(_sources.BULK_SOURCE_OPTIONS)


def argument_spec():
    spec = _ldap.ldap_connection_spec()
    spec.update(_sources.scope_spec())
    spec.update(_sources.templated_source_spec())
    spec.update(_image.image_argument_spec())
    spec.update(_sync.sync_spec())
    return spec


def main():
    module = _module.build(
        argument_spec(), requires=("ldap3", "Pillow"), supports_check_mode=True,
        mutually_exclusive=[SOURCES, ("identities", "filter")],
        required_one_of=[SOURCES],
    )
    params = module.params
    if params["sharepoint"] or params["graph"] or params["photo_url_template"]:
        _module.require(module, "requests")

    with _module.failures(module):
        # Everything that can be refused is refused before the directory (or the source) is contacted.
        options = _sync.Options(params, check_mode=module.check_mode)
        profile = _image.ImageProfile.from_params(params)
        source = _sources.build_bulk_source(params)
        _module.hide_secrets(module, source)
        reports = _sync.report_writer_factory() if options.report_dir else None
        with _ldap.Directory(_ldap.ConnectionSettings.from_params(params)) as directory:
            _sources.bind_to_directory(source, directory)
            try:
                result = _sync.Run(directory, source, profile, options, report_factory=reports).run()
            except _sync.RunStopped as exc:
                _module.source_warnings(module, source)
                _module.fail(module, exc, **exc.result)
    _module.source_warnings(module, source)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
