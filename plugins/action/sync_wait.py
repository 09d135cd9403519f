# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for an asynchronous task and print its progress file while it runs.

Documentation: plugins/modules/sync_wait.py.  Runs on the controller; every poll executes
``async_status`` and, when a progress file is named, ``slurp`` on the host the task runs on (the
same host and connection as the async task, so ``delegate_to`` works), and prints one line through
Ansible's display, which a worker process forwards to the main process as it happens.  That is
the point: ``until``/``retries`` can only repeat a fixed task name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import time

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

# What async_status adds to a module's own result; not part of what the module returned.
_ASYNC_KEYS = ('ansible_job_id', 'started', 'finished', 'results_file', 'stdout', 'stderr',
               'stdout_lines', 'stderr_lines', 'erased')


def _format_seconds(seconds):
    seconds = int(seconds)
    if seconds < 60:
        return '%d s' % seconds
    if seconds < 3600:
        return '%d min %02d s' % (seconds // 60, seconds % 60)
    return '%d h %02d min' % (seconds // 3600, (seconds % 3600) // 60)


def progress_line(label, progress, elapsed):
    """One human line from a progress document ``{phase, processed, total, updated_at}``."""
    if not isinstance(progress, dict):
        return '%s: running, %s' % (label, _format_seconds(elapsed))
    phase = progress.get('phase') or 'running'
    processed = progress.get('processed')
    total = progress.get('total')
    if isinstance(processed, int) and isinstance(total, int) and total > 0:
        percent = min(100, processed * 100 // total)
        return '%s: %d/%d people (%d%%), %s, %s' % (
            label, processed, total, percent, phase, _format_seconds(elapsed))
    if isinstance(processed, int):
        return '%s: %d people, %s, %s' % (label, processed, phase, _format_seconds(elapsed))
    return '%s: %s, %s' % (label, phase, _format_seconds(elapsed))


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('jid', 'progress_file', 'interval', 'timeout', 'label', 'heartbeat', 'cleanup'))
    _supports_check_mode = True
    _supports_async = False

    def _async_dir(self):
        return self._remote_expand_user(self.get_shell_option('async_dir', default='~/.ansible_async'))

    def _status(self, jid, async_dir, task_vars, mode='status'):
        return self._execute_module(module_name='ansible.legacy.async_status',
                                    module_args={'jid': jid, 'mode': mode, '_async_dir': async_dir},
                                    task_vars=task_vars)

    def _progress(self, path, task_vars):
        """The progress document, or None while there is none (not yet written, unreadable)."""
        result = self._execute_module(module_name='ansible.legacy.slurp', module_args={'src': path},
                                      task_vars=task_vars)
        if result.get('failed') or 'content' not in result:
            return None
        try:
            return json.loads(to_text(base64.b64decode(result['content'])))
        except ValueError:
            return None  # caught between writes of a writer that is not atomic: next poll

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        valid, args = self.validate_argument_spec(argument_spec=dict(
            jid=dict(type='str', required=True),
            progress_file=dict(type='str'),
            interval=dict(type='float', default=5.0),
            timeout=dict(type='int', default=86400),
            label=dict(type='str', default='progress'),
            heartbeat=dict(type='int', default=60),
            cleanup=dict(type='bool', default=True),
        ))
        del valid
        if args['interval'] <= 0:
            raise AnsibleError('interval must be greater than 0')

        host = task_vars.get('inventory_hostname', '') if task_vars else ''
        delegated = self._task.delegate_to
        label = 'photosync [%s%s] %s' % (host, (' -> %s' % delegated) if delegated and delegated != host else '',
                                         args['label'])
        async_dir = self._async_dir()
        start = time.time()
        last_line = None
        last_shown = 0.0
        status = {}
        while True:
            status = self._status(args['jid'], async_dir, task_vars)
            finished = bool(status.get('finished'))
            if status.get('failed') and not finished and 'started' not in status:
                # async_status could not read the job at all (unknown jid, unreadable file)
                status.setdefault('msg', 'could not read the status of job %s' % args['jid'])
                return status
            elapsed = time.time() - start
            if not finished or args['progress_file']:
                progress = self._progress(args['progress_file'], task_vars) if args['progress_file'] else None
                line = progress_line(label, progress, elapsed)
                # A line when the numbers moved; otherwise one every `heartbeat` seconds.
                key = line.rsplit(', ', 1)[0]
                if key != last_line or (args['heartbeat'] > 0 and elapsed - last_shown >= args['heartbeat']):
                    display.display(line)
                    last_line, last_shown = key, elapsed
            if finished:
                break
            if elapsed > args['timeout']:
                result.update(failed=True, ansible_job_id=args['jid'],
                              msg='gave up waiting for job %s after %d s (timeout); it may still be running'
                              % (args['jid'], args['timeout']))
                return result
            time.sleep(args['interval'])

        if args['cleanup']:
            self._status(args['jid'], async_dir, task_vars, mode='cleanup')
        for key in _ASYNC_KEYS:
            status.pop(key, None)
        result.update(status)
        result['wait_seconds'] = round(time.time() - start, 1)
        # Whether this task (and so the job it waited for) ran in check mode; unlike the
        # ansible_check_mode variable this also covers check_mode set on a play, block or task.
        result.setdefault('check_mode', bool(self._play_context.check_mode))
        return result
