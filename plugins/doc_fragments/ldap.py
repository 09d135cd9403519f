# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The LDAP connection options.  Paired one-to-one with
    # plugins/module_utils/_ldap.py:ldap_connection_spec(); change both together.
    DOCUMENTATION = r"""
options:
  server:
    description:
      - The domain controller(s) to talk to, tried in order until one answers.
      - Each entry is a host name or address, optionally with C(:port), or an C(ldap://) / C(ldaps://) URI.
      - Use a name that is in the server certificate (validation compares it), usually the DC's DNS name.
      - If not set, the value of the E(PHOTOSYNC_LDAP_SERVER) environment variable is used
        (a comma-separated list).
    type: list
    elements: str
    required: false
  port:
    description:
      - The TCP port. Defaults to V(636) for O(tls_mode=ldaps) and V(389) otherwise.
      - Falls back to E(PHOTOSYNC_LDAP_PORT).
    type: int
  tls_mode:
    description:
      - How the connection is protected.
      - V(ldaps) speaks TLS from the first byte (port 636).
      - V(start_tls) connects in the clear on port 389 and upgrades with the StartTLS extended operation
        before binding.
      - V(none) uses no encryption. A simple bind with a password is then refused unless
        O(allow_plaintext=true), because the password would cross the network in clear text.
      - Falls back to E(PHOTOSYNC_LDAP_TLS_MODE).
    type: str
    choices: [ldaps, start_tls, none]
    default: ldaps
  validate_certs:
    description:
      - Whether the server certificate must be issued by a trusted CA and name the server.
      - Keep this on. To trust a private CA, give it in O(ca_cert) instead of turning validation off.
      - Falls back to E(PHOTOSYNC_LDAP_VALIDATE_CERTS).
    type: bool
    default: true
  ca_cert:
    description:
      - A PEM file with the CA certificate(s) that issued the directory's certificate.
      - When not set, the system's trusted CAs are used.
      - Falls back to E(PHOTOSYNC_LDAP_CA_CERT).
    type: path
  auth_protocol:
    description:
      - How to authenticate.
      - V(simple) binds with O(username) and O(password). The username can be a UPN (V(admin@example.com)),
        a DN, or V(DOMAIN\\user). This is the method to use against DCs that enforce LDAP signing or
        channel binding (over LDAPS).
      - V(kerberos) uses SASL GSSAPI with the current Kerberos ticket (C(kinit)) or a keytab. Needs the
        C(gssapi) Python package on the host that runs the module.
      - V(certificate) uses SASL EXTERNAL with the TLS client certificate in O(client_cert) / O(client_key).
      - Falls back to E(PHOTOSYNC_LDAP_AUTH_PROTOCOL).
    type: str
    choices: [simple, kerberos, certificate]
    default: simple
  username:
    description:
      - The account to bind as for O(auth_protocol=simple), or the principal to use for
        O(auth_protocol=kerberos).
      - Falls back to E(PHOTOSYNC_LDAP_USERNAME).
    type: str
  password:
    description:
      - The password for O(username).
      - Falls back to E(PHOTOSYNC_LDAP_PASSWORD).
    type: str
  client_cert:
    description:
      - PEM certificate (may include its key) for O(auth_protocol=certificate).
      - Falls back to E(PHOTOSYNC_LDAP_CLIENT_CERT).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert) when it is in a separate file.
      - Falls back to E(PHOTOSYNC_LDAP_CLIENT_KEY).
    type: path
  allow_plaintext:
    description:
      - Allow a simple bind with a password over a connection without TLS (O(tls_mode=none)).
      - Only for lab directories; most domain controllers refuse it anyway (C(strongerAuthRequired)).
    type: bool
    default: false
  connect_timeout:
    description:
      - Seconds to wait for each server to accept the connection before trying the next one.
    type: int
    default: 10
  timeout:
    description:
      - Seconds to wait for any single LDAP response.
    type: int
    default: 60
  search_base:
    description:
      - Where searches for users start.
      - Defaults to the domain's naming context, read from the server's rootDSE
        (for example V(DC=example,DC=com)).
      - Falls back to E(PHOTOSYNC_LDAP_SEARCH_BASE).
    type: str
notes:
  - The LDAP connection options can be set once for a play with
    C(module_defaults) and the action group C(group/photosync.ad.ldap).
  - Binds use C(ldap3), which cannot do NTLM signing or channel binding. Against domain controllers that
    enforce them, a simple bind over LDAPS (the default) or Kerberos works.
requirements:
  - ldap3 >= 2.8 (Python library on the host that runs the module)
"""
