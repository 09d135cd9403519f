# -*- coding: utf-8 -*-
"""Fixtures for tests that need the SharePoint/Graph test server.

Use in a test module (tests/support is on sys.path)::

    from sptest.pytest_plugin import sp_server  # noqa: F401  (module-scoped fixture)

or build your own with ``SPTestServer(...)`` as a context manager.
"""

import pytest

from .server import SPTestServer


@pytest.fixture(scope="module")
def sp_server(tmp_path_factory):
    """A started server with the default people plus 1,200 generated ones; faults reset per module."""
    server = SPTestServer(str(tmp_path_factory.mktemp("sptest")), generate=1200, startrow_cap=500)
    server.start()
    try:
        yield server
    finally:
        server.stop()
