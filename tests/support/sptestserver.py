#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""SharePoint (on-premises + Online) and Microsoft Graph test server.

    python tests/support/sptestserver.py --state-dir DIR --port 8443 [--generate 1200] [--daemon]
    python tests/support/sptestserver.py stop --state-dir DIR

In Python: ``from sptestserver import SPTestServer`` (the code lives in the ``sptest`` package beside
this file). See docs/development-sharepoint-server.md.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sptest import GRAPH_SIZES, SP_SIZES, SPTestServer, people_from_dc  # noqa: E402,F401 pylint: disable=unused-import
from sptest.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
