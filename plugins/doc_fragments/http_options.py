# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The HTTP sub-options of a remote photo source (sharepoint, graph).  Paired one-to-one with
    # plugins/module_utils/_remote_options.py:http_options_spec(); change both together.
    # Sub-options cannot be merged in by extends_documentation_fragment, so the sharepoint and graph
    # fragments paste this text in with ModuleDocFragment.suboptions(parent).
    SUBOPTIONS = r"""
validate_certs:
  description:
    - Whether to validate the TLS certificates of the service and of the token authority.
    - Turn off only for tests; use O({parent}.ca_cert) for a private CA instead.
  type: bool
  default: true
ca_cert:
  description:
    - A PEM file with the CA certificate(s) to trust instead of the system store.
  type: path
timeout:
  description:
    - Seconds to wait for a connection or for data on one request.
  type: int
  default: 30
retries:
  description:
    - How many times one request (or one C($batch) item) is sent again after HTTP 429, 500, 502, 503,
      504, a timeout or a dropped connection. V(0) disables retries.
    - After a 429 or 503 the wait is the greater of C(Retry-After) (integer or fractional seconds, or a
      date) and C(RateLimit-Reset); without them it is random between zero and an exponentially
      growing bound.
    - A server error that is still there after the retries is an error for that person, never
      "no photo".
  type: int
  default: 5
max_retry_wait:
  description:
    - The longest wait, in seconds, that a C(Retry-After) or C(RateLimit-Reset) may ask for.
    - A server asking for more is not retried; the request fails with a message saying how long the
      server asked to wait. Microsoft Graph has been seen asking for 315 seconds.
  type: int
  default: 120
max_concurrency:
  description:
    - The most requests in flight at once against the service from this task.
  type: int
  default: 4
"""

    @classmethod
    def suboptions(cls, parent, indent=6):
        """SUBOPTIONS for the dict option ``parent``, indented to sit under its ``suboptions:``."""
        text = cls.SUBOPTIONS.strip("\n").replace("{parent}", parent)
        return "\n".join((" " * indent + line) if line else line for line in text.splitlines()) + "\n"
