# -*- coding: utf-8 -*-
"""Make the checkout importable as ``ansible_collections.photosync.ad`` from any path.

ansible-test needs the checkout to live at ``.../ansible_collections/photosync/ad``;
plain pytest should not.  When the checkout is not already there we build a tiny
symlink tree in a temporary folder, put it first on ``sys.path`` and point
``ANSIBLE_COLLECTIONS_PATH`` at it, so modules run by ansible-playbook resolve too.
"""

import os
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collection_root():
    parts = REPO_ROOT.split(os.sep)
    if parts[-3:-1] == ["ansible_collections", "photosync"] and parts[-1] == "ad":
        return os.sep.join(parts[:-3])
    base = tempfile.mkdtemp(prefix="photosync-collections-")
    ns_dir = os.path.join(base, "ansible_collections", "photosync")
    os.makedirs(ns_dir)
    os.symlink(REPO_ROOT, os.path.join(ns_dir, "ad"))
    return base


COLLECTIONS_ROOT = os.environ.get("PHOTOSYNC_COLLECTIONS_ROOT") or _collection_root()
os.environ["PHOTOSYNC_COLLECTIONS_ROOT"] = COLLECTIONS_ROOT
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
os.environ["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS_ROOT
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "support"))
