# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The Entra-app sub-options of a remote photo source (sharepoint, graph): app-only certificate
    # credentials and a ready token.  Paired one-to-one with
    # plugins/module_utils/_remote_options.py:entra_app_spec(); change both together.
    # Sub-options cannot be merged in by extends_documentation_fragment, so the sharepoint and graph
    # fragments paste this text in with ModuleDocFragment.suboptions(parent, ...).
    SUBOPTIONS = r"""
tenant_id:
  description:
    - The Entra tenant (directory) id or domain, for V(certificate).
    - Falls back to E(PHOTOSYNC_AZURE_TENANT_ID).
  type: str
client_id:
  description:
    - The application (client) id of the Entra app, for V(certificate).
    - Falls back to E(PHOTOSYNC_AZURE_CLIENT_ID).
  type: str
certificate_path:
  description:
    - One PEM file with the app's private key and its certificate, for V(certificate).
    - Falls back to E(PHOTOSYNC_AZURE_CERTIFICATE_PATH).
  type: path
certificate_thumbprint:
  description:
    - The SHA-1 thumbprint (hex) of the certificate as shown in the app registration.
    - Computed from the certificate in O({parent}.certificate_path) when not set.
  type: str
authority:
  description:
    - The token authority; the tenant is appended. Change it only for national clouds
      (for example V(https://login.microsoftonline.us)) or test servers.
  type: str
  default: https://login.microsoftonline.com
token:
  description:
    - A ready bearer token for {service}, for V(token). Falls back to E({token_env}).
  type: str
"""

    @classmethod
    def suboptions(cls, parent, service, token_env, indent=6):
        """SUBOPTIONS for the dict option ``parent``, indented to sit under its ``suboptions:``."""
        text = cls.SUBOPTIONS.strip("\n").replace("{parent}", parent).replace("{service}", service)
        text = text.replace("{token_env}", token_env)
        return "\n".join((" " * indent + line) if line else line for line in text.splitlines()) + "\n"
