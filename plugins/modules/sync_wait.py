#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/sync_wait.py): it runs on the
# controller and executes async_status and slurp on the host the async task runs on.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sync_wait
short_description: Wait for an asynchronous photo sync and print its progress while it runs
version_added: 0.1.0
description:
  - "Waits for a task started with C(async) and C(poll=0), typically M(photosync.ad.thumbnail_photo_sync)
    with its O(photosync.ad.thumbnail_photo_sync#module:progress_file) option, and prints one line such as
    C(photosync [localhost] sync: 1200/2000 people (60%), reconcile, 42 s) whenever the numbers in the
    progress file move (and at least every O(heartbeat) seconds), so a long run is not a silent wait."
  - Returns the async task's own result when it finishes (C(changed), C(failed), C(diff) and every other
    key), so the task can be registered and used as if the module had run synchronously.
  - The C(sync) role (C(photosync.ad.sync)) uses it; use it directly only when you run the module yourself.
  - Ansible's C(until)/C(retries) loop can only print the same task name on every try; this prints the
    numbers.
options:
  jid:
    description:
      - The C(ansible_job_id) returned by the task started with C(async) and C(poll=0).
    type: str
    required: true
  progress_file:
    description:
      - The path of the progress file the async task rewrites while it runs, on the host the task runs on.
        A JSON object with C(phase), C(processed), C(total) and C(updated_at).
      - Without it only the elapsed time is printed.
    type: str
  interval:
    description:
      - Seconds between two polls. Each poll runs two small modules on the host.
    type: float
    default: 5
  timeout:
    description:
      - Give up waiting after this many seconds (the job itself keeps running until its own C(async) limit).
    type: int
    default: 86400
  label:
    description:
      - A word put into each progress line, to tell several waits apart.
    type: str
    default: progress
  heartbeat:
    description:
      - Print a line at least this often (seconds) even when the numbers did not move. V(0) prints only on
        change.
    type: int
    default: 60
  cleanup:
    description:
      - Remove the job's status file once the job has finished.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Waits for a job started in check mode as well; it changes nothing itself.
  diff_mode:
    support: full
    description: Returns the job's C(diff), if it has one.
author:
  - photosync.ad developers (@photosync)
"""

EXAMPLES = r"""
- name: Start the sync in the background, writing a progress file
  photosync.ad.thumbnail_photo_sync:
    search_base: OU=People,DC=example,DC=com
    photo_dir: /srv/photos
    progress_file: /tmp/photosync-progress.json
  async: 7200
  poll: 0
  changed_when: false
  register: photosync_job

- name: Wait for it, printing processed/total as it goes
  photosync.ad.sync_wait:
    jid: "{{ photosync_job.ansible_job_id }}"
    progress_file: /tmp/photosync-progress.json
    interval: 5
  register: photosync_result
"""

RETURN = r"""
wait_seconds:
  description: How long the wait took, in seconds.
  returned: always
  type: float
  sample: 42.5
changed:
  description: The async task's own C(changed).
  returned: always
  type: bool
check_mode:
  description: Whether the wait, and so the job it waited for, ran in check mode (set on the command line,
    a play, a block or the task), unless the job's result has its own C(check_mode).
  returned: always
  type: bool
msg:
  description: Why the wait or the job failed.
  returned: on failure
  type: str
"""
