# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The sharepoint option.  Paired one-to-one with
    # plugins/module_utils/_sources.py:sharepoint_spec(); change both together.
    DOCUMENTATION = r"""
options:
  sharepoint:
    description:
      - Read photos from SharePoint user profiles (SharePoint Server 2013 to Subscription Edition, or
        SharePoint Online).
      - The photo is the thumbnail beside the profile's C(PictureURL) in the C(User Photos) library of the
        My Site host. People without a photo (no C(PictureURL), or the C(userphoto.aspx) placeholder)
        have none.
      - Every request is retried on HTTP 429/503 (waiting C(Retry-After)), 500/502/504 and dropped
        connections, at most O(sharepoint.retries) times, with exponential backoff and jitter.
    type: dict
    suboptions:
      site_url:
        description:
          - A SharePoint site whose C(_api) answers the user profile and search calls, for example
            V(https://sharepoint.example.com) or V(https://contoso.sharepoint.com).
        type: str
        required: true
      mysite_url:
        description:
          - The My Site host that holds the C(User Photos) library, for example V(https://my.example.com).
          - Photos are only downloaded from O(sharepoint.site_url), this host and, for SharePoint Online,
            C(<tenant>-my.sharepoint.com); credentials are never sent to any other host a profile names.
          - Relative picture URLs are resolved against it (or against O(sharepoint.site_url) if not set).
        type: str
      flavor:
        description:
          - V(onprem) for SharePoint Server, V(online) for SharePoint Online.
          - It decides the account names (C(i:0#.w|DOMAIN\user) or C(i:0#.f|membership|upn)) and the default
            O(sharepoint.auth).
        type: str
        choices: [onprem, online]
        default: onprem
      auth:
        description:
          - V(ntlm) with O(sharepoint.username) and O(sharepoint.password) (on-premises).
          - V(kerberos) with the ticket cache of the user running the module (C(kinit) first; needs the
            Python library C(requests-gssapi) or C(requests-kerberos)) (on-premises).
          - V(certificate) app-only through MSAL with an Entra app and its certificate (SharePoint Online).
            SharePoint Online refuses app-only tokens obtained with a client secret.
          - V(token) uses O(sharepoint.token) as a bearer token, as is.
          - Defaults to V(token) when O(sharepoint.token) is set, else V(ntlm) on-premises and V(certificate)
            online.
        type: str
        choices: [ntlm, kerberos, certificate, token]
      username:
        description:
          - The account for V(ntlm), as C(DOMAIN\user) or C(user@domain).
          - Falls back to E(PHOTOSYNC_SP_USERNAME).
        type: str
      password:
        description:
          - The password for V(ntlm). Falls back to E(PHOTOSYNC_SP_PASSWORD).
        type: str
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
          - Computed from the certificate in O(sharepoint.certificate_path) when not set.
        type: str
      authority:
        description:
          - The token authority; the tenant is appended. Change it only for national clouds
            (for example V(https://login.microsoftonline.us)) or test servers.
        type: str
        default: https://login.microsoftonline.com
      token:
        description:
          - A ready bearer token for the SharePoint host, for V(token). Falls back to E(PHOTOSYNC_SP_TOKEN).
        type: str
      validate_certs:
        description:
          - Whether to validate the TLS certificates of SharePoint and of the token authority.
          - Turn off only for tests; use O(sharepoint.ca_cert) for a private CA instead.
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
          - How many times one request is sent again after HTTP 429, 500, 502, 503, 504, a timeout or a
            dropped connection. V(0) disables retries.
          - C(Retry-After) (integer or fractional seconds) is honoured, up to 120 seconds a wait; without
            it the wait is random between zero and an exponentially growing bound.
        type: int
        default: 5
      max_concurrency:
        description:
          - The most requests in flight at once against SharePoint from this task.
        type: int
        default: 4
      photo_size:
        description:
          - Which thumbnail to take. V(L) is the largest (SharePoint 2013 and later up to 300 px, 2010 144 px)
            and what SharePoint's own AD export used; V(M) is the C(PictureURL) file (72 or 96 px),
            V(S) the smallest (48 or 32 px).
          - If the L or S file is missing, the C(PictureURL) file is taken.
        type: str
        choices: [L, M, S]
        default: L
      account_template:
        description:
          - How to build a person's SharePoint account name from the directory, instead of the default
            C(i:0#.w|{netbios}\{sAMAccountName}) (on-premises) or C(i:0#.f|membership|{userPrincipalName})
            (online).
          - Fields are C({sAMAccountName}), C({userPrincipalName}), C({mail}), C({objectGUID}),
            C({objectSid}), C({dn}), C({displayName}) and C({netbios}) (the NetBIOS domain name).
        type: str
      odata:
        description:
          - The JSON flavour asked for. V(verbose) works on every SharePoint version; V(nometadata) is
            smaller and works on SharePoint 2016 and later and Online. Both are read correctly.
        type: str
        choices: [verbose, nometadata]
        default: verbose
"""

    # The graph option.  Paired one-to-one with
    # plugins/module_utils/_sources.py:graph_spec(); change both together.
    GRAPH = r"""
options:
  graph:
    description:
      - Read photos from Microsoft Graph (Microsoft 365 / Entra ID profile photos).
      - Needs an Entra app registration with a certificate and the C(User.Read.All) application
        permission with admin consent (or a ready bearer token with that permission).
      - A user without a photo (Graph answers 404 C(ImageNotFound)) has none.
      - Requests are retried on 429/503 (waiting C(Retry-After)), 500/502/504 and dropped connections, at
        most O(graph.retries) times.
    type: dict
    suboptions:
      auth:
        description:
          - V(certificate) app-only through MSAL; V(token) uses O(graph.token) as is.
          - Defaults to V(token) when O(graph.token) is set, else V(certificate).
        type: str
        choices: [certificate, token]
      tenant_id:
        description:
          - The Entra tenant (directory) id or domain. Falls back to E(PHOTOSYNC_AZURE_TENANT_ID).
        type: str
      client_id:
        description:
          - The application (client) id. Falls back to E(PHOTOSYNC_AZURE_CLIENT_ID).
        type: str
      certificate_path:
        description:
          - One PEM file with the app's private key and certificate.
            Falls back to E(PHOTOSYNC_AZURE_CERTIFICATE_PATH).
        type: path
      certificate_thumbprint:
        description:
          - The SHA-1 thumbprint (hex) of the certificate; computed from O(graph.certificate_path) when not set.
        type: str
      authority:
        description:
          - The token authority; the tenant is appended. Change it only for national clouds or test servers.
        type: str
        default: https://login.microsoftonline.com
      token:
        description:
          - A ready bearer token for Microsoft Graph. Falls back to E(PHOTOSYNC_GRAPH_TOKEN).
        type: str
      graph_url:
        description:
          - The Graph endpoint, without the version. Change it only for national clouds
            (for example V(https://graph.microsoft.us)) or test servers.
        type: str
        default: https://graph.microsoft.com
      user_key:
        description:
          - How a directory user is found in Entra ID.
          - V(userPrincipalName) uses the AD UPN directly in C(/users/{upn}) (right when the on-premises UPN
            is the Entra sign-in name).
          - V(mail) looks the user up by C(mail) (one extra request per person, cached).
          - V(onPremisesImmutableId) looks the user up by the base64 of the AD C(objectGUID), the anchor
            Entra Connect uses by default. Graph C(id)s are Entra object ids, not AD GUIDs, so the
            C(objectGUID) cannot be used directly.
          - Ignored when O(graph.user_template) is set.
        type: str
        choices: [userPrincipalName, mail, onPremisesImmutableId]
        default: userPrincipalName
      user_template:
        description:
          - Build the C(/users/{...}) key from directory values instead, for example
            V({sAMAccountName}@contoso.onmicrosoft.com).
          - Fields are C({sAMAccountName}), C({userPrincipalName}), C({mail}), C({objectGUID}),
            C({objectSid}) and C({dn}).
        type: str
      photo_size:
        description:
          - V(original) takes the largest photo (C(/photo/$value)); the image pipeline then scales it to the
            thumbnail profile.
          - A size such as V(96x96) takes that stored variant (C(/photos/96x96/$value)).
        type: str
        choices: [original, 48x48, 64x64, 96x96, 120x120, 240x240, 360x360, 432x432, 504x504, 648x648]
        default: original
      validate_certs:
        description:
          - Whether to validate the TLS certificates of Graph and the token authority.
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
          - How many times one request (or one C($batch) item) is sent again after 429, 5xx, a timeout or a
            dropped connection.
        type: int
        default: 5
      max_concurrency:
        description:
          - The most requests in flight at once against Graph from this task.
        type: int
        default: 4
"""
