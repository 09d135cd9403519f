# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option families of the remote sources (``sharepoint``, ``graph`` and the HTTP and Entra-app
sub-options they share), and nothing else.

They live apart from the clients so that every module can build its argument spec without
compiling the HTTP, SharePoint, Graph and authentication code: Ansible ships module_utils as
source in a zip and Python compiles each imported file again on every task, so a task that
reads a file must not import what only a SharePoint task runs.  ``_http``, ``_msauth``,
``_sharepoint`` and ``_graph`` re-export these names.  Each spec factory is paired with one doc
fragment; change both together.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

DEFAULT_MAX_WAIT = 120.0
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com"
GRAPH_PHOTO_SIZES = ("48x48", "64x64", "96x96", "120x120", "240x240", "360x360", "432x432", "504x504",
                     "648x648")


def http_options_spec(defaults=None):
    """The HTTP sub-options of a remote source (``sharepoint``, ``graph``).

    Documented by the doc fragment photosync.ad.http_options (``plugins/doc_fragments/http_options.py``,
    ``ModuleDocFragment.suboptions``).  ``defaults`` overrides default values.
    """
    spec = dict(
        validate_certs=dict(type="bool", default=True),
        ca_cert=dict(type="path"),
        timeout=dict(type="int", default=30),
        retries=dict(type="int", default=5),
        max_concurrency=dict(type="int", default=4),
        max_retry_wait=dict(type="int", default=int(DEFAULT_MAX_WAIT)),
    )
    for name, value in (defaults or {}).items():
        spec[name]["default"] = value
    return spec


def entra_app_spec(token_env):
    """The Entra-app sub-options of a remote source (``sharepoint``, ``graph``): app-only certificate
    credentials and a ready token.  Documented by the doc fragment photosync.ad.entra
    (``plugins/doc_fragments/entra.py``, ``ModuleDocFragment.suboptions``); change both together."""
    return dict(
        tenant_id=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_AZURE_TENANT_ID"])),
        client_id=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_AZURE_CLIENT_ID"])),
        certificate_path=dict(type="path", fallback=(env_fallback, ["PHOTOSYNC_AZURE_CERTIFICATE_PATH"])),
        certificate_thumbprint=dict(type="str"),
        authority=dict(type="str", default=DEFAULT_AUTHORITY),
        token=dict(type="str", no_log=True, fallback=(env_fallback, [token_env])),
    )


def sharepoint_options():
    """The sub-options of ``sharepoint``: its own, the Entra-app family (``entra_app_spec``)
    and the HTTP family (``http_options_spec``)."""
    options = dict(
        site_url=dict(type="str", required=True),
        mysite_url=dict(type="str"),
        flavor=dict(type="str", default="onprem", choices=["onprem", "online"]),
        auth=dict(type="str", choices=["ntlm", "kerberos", "certificate", "token"]),
        username=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_SP_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["PHOTOSYNC_SP_PASSWORD"])),
        photo_size=dict(type="str", default="L", choices=["L", "M", "S"]),
        account_template=dict(type="str"),
        odata=dict(type="str", default="verbose", choices=["verbose", "nometadata"]),
        batch_size=dict(type="int", default=20),
    )
    options.update(entra_app_spec("PHOTOSYNC_SP_TOKEN"))
    options.update(http_options_spec())
    return options


def sharepoint_spec():
    """The ``sharepoint`` option.  Documented by doc fragment photosync.ad.sharepoint (DOCUMENTATION)."""
    return {"sharepoint": dict(type="dict", options=sharepoint_options())}


def graph_options():
    """The sub-options of ``graph``: its own, the Entra-app family (``entra_app_spec``)
    and the HTTP family (``http_options_spec``)."""
    options = dict(
        auth=dict(type="str", choices=["certificate", "token"]),
        graph_url=dict(type="str", default=DEFAULT_GRAPH_URL),
        user_key=dict(type="str", default="userPrincipalName",
                      choices=["userPrincipalName", "mail", "onPremisesImmutableId"]),
        user_template=dict(type="str"),
        photo_size=dict(type="str", default="original", choices=["original"] + list(GRAPH_PHOTO_SIZES)),
    )
    options.update(entra_app_spec("PHOTOSYNC_GRAPH_TOKEN"))
    options.update(http_options_spec())
    return options


def graph_spec():
    """The ``graph`` option.  Documented by doc fragment photosync.ad.sharepoint.graph (GRAPH)."""
    return {"graph": dict(type="dict", options=graph_options())}
