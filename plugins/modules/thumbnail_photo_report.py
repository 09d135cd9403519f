#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: thumbnail_photo_report
short_description: Merge photo drift reports of several runs, or render a JSON drift report in other formats
version_added: 0.1.0
description:
  - Reads one or more JSON drift reports written by M(photosync.ad.thumbnail_photo_sync) (C(report_dir) with
    C(json) in C(report_formats)) and writes one set of reports from them in O(dest).
  - With several reports, for example one per OU or per host of a split-scope run, the people are concatenated
    and the counts summed. A person (by distinguishedName) found in more than one report is kept once, from the
    first report that has them, and counted in RV(summary.duplicates).
  - A source key counts as unmatched in the merge only if every run that read the same source found it
    unmatched, because each split-scope run sees only its part of the people.
  - With one report, renders it again in other formats (for example the HTML report for a person to look at,
    from the JSON report that CI kept).
  - Needs no connection to the directory; usually runs on the controller.
  - The reports hold names and photos, so files are written owner-only (mode C(0600)), and O(dest) is created
    with mode C(0700) when missing.
  - A report whose bytes equal the file already in O(dest) is not rewritten, and the merged report carries the
    time of the newest input, so merging the same inputs again reports no change.
  - Each status, the JSON schema and how to gate CI on a report are described in the collection's
    C(docs/drift-reports.md).
author:
  - photosync.ad developers (@photosync)
attributes:
  check_mode:
    support: full
    description: Builds the reports in a private temporary folder, compares them with O(dest) and discards them.
  diff_mode:
    support: none
    description: The reports are files of photos; there is no useful text diff.
options:
  src:
    description:
      - The JSON drift reports to read, in this order.
      - Each must be a C(photosync.ad/drift-report) of a version this collection reads.
    type: list
    elements: path
    required: true
  dest:
    description:
      - The folder to write the reports to, as C(photosync-report.json), C(photosync-report.html),
        C(photosync-report.junit.xml) and C(photosync-report.csv).
      - It may be the folder of one of the inputs; every input is read before any file is replaced.
    type: path
    required: true
  formats:
    description:
      - Which reports to write.
    type: list
    elements: str
    choices: [json, html, junit, csv]
    default: [json, html, junit, csv]
  include_photos:
    description:
      - Keep the photos of people who are not in sync in the JSON report and show them in the HTML report.
      - Photos the inputs do not hold cannot be shown either way.
    type: bool
    default: true
seealso:
  - module: photosync.ad.thumbnail_photo_sync
"""

EXAMPLES = r"""
- name: Merge the drift reports of the per-OU runs into one
  photosync.ad.thumbnail_photo_report:
    src:
      - reports/staff/photosync-report.json
      - reports/students/photosync-report.json
    dest: reports/all
  delegate_to: localhost
  run_once: true
  register: drift

- name: Fail the pipeline when anybody is not in sync
  ansible.builtin.assert:
    that: drift.summary.not_in_sync == 0
    fail_msg: "{{ drift.summary.not_in_sync }} people are not in sync; see {{ drift.reports.html }}"

- name: Render the HTML report again from a JSON report kept by CI
  photosync.ad.thumbnail_photo_report:
    src: [artifacts/photosync-report.json]
    dest: artifacts/html
    formats: [html]
  delegate_to: localhost
"""

RETURN = r"""
summary:
  description: The summary of the merged report, as in its JSON C(summary).
  returned: success
  type: dict
  contains:
    total:
      description: How many people the reports hold.
      type: int
      sample: 1200
    counts:
      description: People per status; every status is present, zero included.
      type: dict
      sample: {in_sync: 1150, add: 20, update: 25, remove: 0, no_source: 5, conflict: 0, invalid_source: 0, error: 0}
    not_in_sync:
      description: RV(summary.total) minus the people in sync.
      type: int
      sample: 50
    changed:
      description: Whether any of the runs changed (or in check mode would have changed) a photo.
      type: bool
    written:
      description: How many photos the runs wrote.
      type: int
    unmatched_source_keys:
      description: Source photos that matched nobody in any run that read the same source.
      type: list
      elements: str
    ambiguous_source_keys:
      description: Source keys that matched several people in a run (nothing was written for them).
      type: list
      elements: str
    duplicates:
      description: People found in more than one input report and kept once.
      type: int
counts:
  description: The same as RV(summary.counts), for short conditions.
  returned: success
  type: dict
  sample: {in_sync: 1150, add: 20, update: 25, remove: 0, no_source: 5, conflict: 0, invalid_source: 0, error: 0}
total:
  description: The same as RV(summary.total).
  returned: success
  type: int
  sample: 1200
reports:
  description: The report written for each format (in check mode, the file that would be written).
  returned: success
  type: dict
  sample:
    json: /srv/reports/all/photosync-report.json
    html: /srv/reports/all/photosync-report.html
"""

from ansible_collections.photosync.ad.plugins.module_utils import _module, _report


def main():
    module = _module.build(
        dict(
            src=dict(type="list", elements="path", required=True),
            dest=dict(type="path", required=True),
            formats=dict(type="list", elements="str", choices=list(_report.FORMATS), default=list(_report.FORMATS)),
            include_photos=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    with _module.failures(module):
        result = _report.render_reports(params["src"], params["dest"], params["formats"],
                                        include_photos=params["include_photos"], check_mode=module.check_mode)
    reports = result.pop("reports")
    changed = result.pop("report_changed")
    module.exit_json(changed=changed, summary=result, counts=result["counts"], total=result["total"],
                     reports=reports)


if __name__ == "__main__":
    main()
