"""Run ansible-playbook with this checkout as the collection photosync.ad (tests only)."""

import json
import os
import subprocess
import sys


def run_playbook(playbook, extra_vars, tmp_path, extra_env=None):
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra_vars))
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=os.environ["PHOTOSYNC_COLLECTIONS_ROOT"], ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_STDOUT_CALLBACK="default")
    env.update(extra_env or {})
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
               "-e", "@%s" % vars_file, str(playbook)]
    return subprocess.run(command, check=False, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)
