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
      - A URI's scheme must agree with O(tls_mode), or the task fails before connecting. C(ldaps://) goes with
        O(tls_mode=ldaps) (the default). C(ldap://) needs O(tls_mode=start_tls), or O(tls_mode=none) together
        with O(allow_plaintext=true).
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
      - A PEM file with the CA certificate(s) that issued the directory's certificate, on the host that runs
        the module.
      - A missing file, or one that is not PEM (for example a binary DER C(.cer) as Windows exports it), fails
        the task before connecting. Convert DER with C(openssl x509 -inform der -in FILE -out ca.pem).
      - When not set, the system's trusted CAs are used.
      - Falls back to E(PHOTOSYNC_LDAP_CA_CERT).
    type: path
  auth_protocol:
    description:
      - How to authenticate.
      - V(simple) binds with O(username) and O(password). The username can be a UPN (V(admin@example.com)),
        a DN, or V(DOMAIN\\user). This is the method to use against DCs that enforce LDAP signing or
        channel binding (over LDAPS).
      - V(kerberos) uses SASL GSSAPI (Kerberos). With O(username) and O(password) the module gets a ticket
        for O(username) from the KDC itself (nothing is written to the ticket cache); without O(password) it
        uses the ticket cache (C(kinit), E(KRB5CCNAME)) or the client keytab (E(KRB5_CLIENT_KTNAME)). The KDC
        is found through C(krb5.conf) (E(KRB5_CONFIG)). The service principal is C(ldap/<server>), so connect by
        the DC's DNS name, or set O(kerberos_hostname_override). Use it with O(tls_mode=ldaps) or
        O(tls_mode=start_tls); C(ldap3) negotiates no SASL signing, and DCs that require LDAP signing accept
        such a bind only inside TLS. Needs the C(gssapi) Python package on the host that runs the module.
      - V(certificate) uses SASL EXTERNAL with the TLS client certificate in O(client_cert) / O(client_key).
      - Falls back to E(PHOTOSYNC_LDAP_AUTH_PROTOCOL).
    type: str
    choices: [simple, kerberos, certificate]
    default: simple
  username:
    description:
      - The account to bind as for O(auth_protocol=simple), or the principal to use for
        O(auth_protocol=kerberos).
      - For O(auth_protocol=kerberos) give V(user@REALM); the part after C(@) is upper-cased (AD's realm is
        its DNS domain in upper case, so the UPN V(svc@example.com) becomes V(svc@EXAMPLE.COM)), and
        V(DOMAIN\\user) becomes V(user) in the default realm of C(krb5.conf). Without O(username) the
        ticket cache's principal is used.
      - Falls back to E(PHOTOSYNC_LDAP_USERNAME).
    type: str
  password:
    description:
      - The password for O(username).
      - With O(auth_protocol=kerberos) the module uses it to get a Kerberos ticket for O(username) (then no
        C(kinit) is needed); the password goes to the KDC only, never to the directory.
      - Falls back to E(PHOTOSYNC_LDAP_PASSWORD).
    type: str
  kerberos_hostname_override:
    description:
      - The host name of the directory's Kerberos service principal (C(ldap/<this name>)) when it is not the
        name in O(server), for example when O(server) is an IP address, a load-balancer name or a DNS alias.
        Usually the DC's fully qualified DNS name, V(dc1.example.com).
      - Only used with O(auth_protocol=kerberos). The TLS certificate is still checked against O(server).
      - Falls back to E(PHOTOSYNC_LDAP_KERBEROS_HOSTNAME_OVERRIDE).
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
  allow_any_object_dn:
    description:
      - Let an identity given as a distinguishedName name any object, not only a person.
      - By default every identity, a DN included, finds people only. A person is a C(user) that is not a
        C(computer), or an C(inetOrgPerson). A DN of a computer, group or contact then fails with
        "not a person", so a mistyped or templated DN cannot give such an object a photo.
      - Set to V(true) only when you mean to read or write the photo of such an object by its DN.
        Identities of other kinds and O(search_base)/filter searches still find people only.
    type: bool
    default: false
notes:
  - The LDAP connection options can be set once for a play with
    C(module_defaults) and the action group C(group/photosync.ad.ldap).
  - Binds use C(ldap3), which cannot do NTLM signing or channel binding. Against domain controllers that
    enforce them, a simple bind over LDAPS (the default) or Kerberos works.
  - O(auth_protocol=kerberos) is tested against Samba's (Heimdal) KDC with MIT Kerberos client libraries.
requirements:
  - ldap3 >= 2.9 (Python library on the host that runs the module; the same minimum as the collection's
    requirements.txt)
  - gssapi (Python library, only for O(auth_protocol=kerberos))
"""
