# -*- coding: utf-8 -*-
"""A faithful-enough SharePoint (on-premises + Online) and Microsoft Graph test server.

See docs/development-sharepoint-server.md.  Import as ``from sptest import SPTestServer`` (tests/support is
on sys.path in pytest) or run ``python tests/support/sptestserver.py --help``.
"""

from .people import GRAPH_SIZES, SP_SIZES, people_from_dc  # noqa: F401
from .server import DROP, SPTestServer  # noqa: F401
