"""Run each Ansible integration target in tests/integration/targets/ with ansible-playbook.

A target is a role (tasks/main.yml) in the layout ansible-test uses.  It gets the
test DC's facts as ``dc`` (dc.json), ``support_dir`` (tests/support, for the
independent reader dcread.py) and a scratch ``target_tmp``; it asserts for itself,
verifying the directory with dcread.py, never with the module under test.
"""

import contextlib
import fcntl
import functools
import http.server
import os
import sys
import threading

import pytest

from playrunner import run_playbook

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS_DIR = os.path.join(HERE, "targets")
SUPPORT_DIR = os.path.join(os.path.dirname(HERE), "support")
TARGETS = sorted(
    name for name in os.listdir(TARGETS_DIR)
    if os.path.isfile(os.path.join(TARGETS_DIR, name, "tasks", "main.yml"))
)

PLAYBOOK = """
- name: Integration target {target}
  hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  roles:
    - role: {role_path}
"""


class _WebHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the target's www/ folder; /lying/<file> sends any file as image/jpeg, like a broken CMS."""

    def guess_type(self, path):
        if self.path.startswith("/lying/"):
            return "image/jpeg"
        return super().guess_type(path)

    def translate_path(self, path):
        return super().translate_path(path.replace("/lying/", "/", 1))

    def log_message(self, *args):
        pass


@pytest.fixture
def web_root(tmp_path):
    """A local http server for URL sources; targets put files into ``web_root``."""
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_WebHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield str(root), "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def _one_target_at_a_time(dc):
    """Targets share the seeded users (one sets bob's photo while another reads it): under pytest-xdist
    they must not overlap, whichever workers they land on."""
    with open(os.path.join(dc["dir"], "targets.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.mark.parametrize("target", TARGETS)
def test_target(dc, target, tmp_path, web_root):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK.format(target=target, role_path=os.path.join(TARGETS_DIR, target)))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with _one_target_at_a_time(dc):
        result = run_playbook(playbook, dict(dc=dc, support_dir=SUPPORT_DIR, target_tmp=str(scratch),
                                             python=sys.executable, web_root=web_root[0], web_url=web_root[1]),
                              tmp_path)
    print(result.stdout[-20000:])
    assert result.returncode == 0, "target %s failed:\n%s" % (target, result.stdout[-8000:])
    assert "failed=0" in result.stdout
