# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.photosync.ad.plugins.doc_fragments.entra import ModuleDocFragment as _ENTRA
from ansible_collections.photosync.ad.plugins.doc_fragments.http_options import ModuleDocFragment as _HTTP


class ModuleDocFragment(object):
    # The sharepoint option.  Paired one-to-one with
    # plugins/module_utils/_remote_options.py:sharepoint_spec(); change both together.
    # Its Entra-app and HTTP sub-options come from the entra and http fragments (defined once each).
    _SHAREPOINT = r"""
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
      batch_size:
        description:
          - When many people are read at once (M(photosync.ad.thumbnail_photo_sync), the C(photosync.ad.sync)
            role), their profiles are looked up this many at a time in one OData C($batch) request
            (SharePoint Online, and SharePoint Server 2016 and later); the photo files are then downloaded one
            request each, O(sharepoint.max_concurrency) at a time.
          - Each profile in a batch keeps the rules of a lookup of its own. A part answered 429 or 5xx is
            retried alone (the part counts as the first try, so at most O(sharepoint.retries) retries in all)
            and then is that person's error, never "no photo"; a part that is not a readable answer is that
            person's error; a 401 or 403 stops the run.
          - A server without C($batch) (SharePoint Server 2013, or a proxy that does not pass it) answers the
            first batch with 400, 404, 405, 501 or a redirect; the run then goes on with one request per
            person, nobody is skipped, and a warning says so once. Set V(0) for SharePoint 2013 to skip that
            one attempt.
          - With Windows sign-ins (V(ntlm), V(kerberos)) the batch is a POST that carries a form digest,
            fetched once from C(/_api/contextinfo) and renewed before it expires.
          - V(0) or V(1) looks every profile up with a request of its own. At most V(100).
        type: int
        default: 20
"""

    # The graph option.  Paired one-to-one with
    # plugins/module_utils/_remote_options.py:graph_spec(); change both together.
    # Its Entra-app and HTTP sub-options come from the entra and http fragments (defined once each).
    _GRAPH = r"""
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
"""


# The full fragments (DOCUMENTATION for sharepoint, GRAPH for graph): each option's own sub-options plus
# the Entra-app and HTTP families, which are defined once (doc fragments entra and http_options).
# extends_documentation_fragment cannot merge sub-options, and sanity's yamllint reads only plain string
# constants inside this class, so the pieces are joined here, after the class.
ModuleDocFragment.DOCUMENTATION = (
    ModuleDocFragment._SHAREPOINT
    + _ENTRA.suboptions("sharepoint", "the SharePoint host", "PHOTOSYNC_SP_TOKEN")
    + _HTTP.suboptions("sharepoint")
)
ModuleDocFragment.GRAPH = (
    ModuleDocFragment._GRAPH
    + _ENTRA.suboptions("graph", "Microsoft Graph", "PHOTOSYNC_GRAPH_TOKEN")
    + _HTTP.suboptions("graph")
)
