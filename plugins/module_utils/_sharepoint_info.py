# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The logic of the sharepoint_photo_info module: report (and optionally save) the photos that
SharePoint or Microsoft Graph hold for given accounts or for everybody.

Kept apart from ``_sharepoint``/``_graph`` so that the photo sources do not import the image
pipeline (this module summarizes photos with it; the sources only hand bytes over).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import os

from ansible_collections.photosync.ad.plugins.module_utils._errors import ConfigurationError, PhotoSyncError
from ansible_collections.photosync.ad.plugins.module_utils import _files, _image
from ansible_collections.photosync.ad.plugins.module_utils._sharepoint import (
    PersonProfile,
    SharePointClient,
    account_from_name,
)
from ansible_collections.photosync.ad.plugins.module_utils._prefetch import bounded_map, mark_error


def photo_info_spec():
    """Options of sharepoint_photo_info besides the ``sharepoint`` and ``graph`` families."""
    return dict(
        accounts=dict(type="list", elements="str"),
        all=dict(type="bool", default=False),
        download_dir=dict(type="path"),
        include_content=dict(type="bool", default=False),
    )


_EXTENSIONS = {"image/jpeg": "jpg", "image/pjpeg": "jpg", "image/png": "png", "image/gif": "gif",
               "image/bmp": "bmp", "image/webp": "webp", "image/heic": "heic"}


def _short_name(account):
    """``i:0#.w|EX\\alice`` -> ``EX_alice``; ``i:0#.f|membership|a@b`` -> ``a@b``."""
    tail = account.rsplit("|", 1)[-1]
    return tail.replace("\\", "_")


def _record(account, display_name, picture_url, photo, download_dir, include_content, error=None):
    rec = dict(account=account, display_name=display_name, picture_url=picture_url, has_photo=photo is not None,
               version=None, sha256=None, bytes=0, width=None, height=None, content_type=None, file=None)
    if error is not None:
        rec["error"] = str(error)
        rec["has_photo"] = None
        return rec
    if photo is None:
        return rec
    data = photo.data
    rec.update(version=photo.version, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
               content_type=photo.content_type, picture_url=picture_url or photo.origin)
    if _image.HAS_PIL:
        summary = _image.summarize(data)
        rec.update(width=summary["width"], height=summary["height"])
    if include_content:
        rec["content"] = base64.b64encode(data).decode("ascii")
    if download_dir:
        ext = _EXTENSIONS.get((photo.content_type or "").lower(), "jpg")
        name = _files.render_name("{name}.{ext}", {"name": _short_name(account), "ext": ext})
        path = _files.safe_path(download_dir, name)
        _files.atomic_write(path, data)
        rec["file"] = path
    return rec


def _global(exc):
    """Errors that would repeat for every account (configuration, TLS, 401/403): stop the run."""
    return mark_error(exc).run_wide


def collect_photo_info(params, sleep=None):
    """The ``photos`` list of sharepoint_photo_info for module params."""
    accounts = params.get("accounts") or []
    every = params.get("all")
    if bool(accounts) == bool(every):
        raise ConfigurationError("give either accounts or all: true")
    download_dir = params.get("download_dir")
    if download_dir and not os.path.isdir(download_dir):
        try:
            os.makedirs(download_dir)
        except OSError as exc:
            raise ConfigurationError("cannot create download_dir %s: %s" % (download_dir, exc.strerror or exc))
    include = params.get("include_content")
    if params.get("graph") and not params.get("sharepoint"):
        from ansible_collections.photosync.ad.plugins.module_utils._graph import GraphClient
        client = GraphClient(params["graph"], sleep=sleep)
        if every:
            people = [(u.get("userPrincipalName") or u["id"], u.get("displayName"), u["id"])
                      for u in client.iter_users()]
        else:
            people = [(a, None, a) for a in accounts]
        results = client.fetch_photos([uid for _a, _d, uid in people])
        out = []
        for account, display, uid in people:
            got = results.get(uid)
            if isinstance(got, PhotoSyncError):
                if _global(got):
                    raise got
                out.append(_record(account, display, None, None, None, False, error=got))
            else:
                out.append(_record(account, display, got.origin if got else None, got, download_dir, include))
        return out
    if params.get("graph"):
        raise ConfigurationError("give either sharepoint or graph, not both")
    client = SharePointClient(params.get("sharepoint") or {}, sleep=sleep)

    def one(item):
        if every:
            person = item
            account = person.account
            # Search rows do not carry SPS-PicturePlaceholderState; SharePoint Online keeps a stale
            # PictureURL for placeholder profiles, so there every profile is read.
            profile = None if client.flavor == "online" else PersonProfile(
                person.account, person.display_name, person.email, person.picture_url, None, {})
        else:
            account = account_from_name(item, client.flavor)
            profile = None
        try:
            if profile is None:
                profile = client.get_profile(account, user=account)
                if profile is None:  # no profile: no photo
                    return _record(account, None, None, None, None, False)
            photo = client.fetch_photo(profile.account or account, user=account, profile=profile)
            return _record(profile.account or account, profile.display_name, profile.picture_url, photo,
                           download_dir, include)
        except PhotoSyncError as exc:
            if _global(exc):
                raise
            return _record(account, profile.display_name if profile else None, None, None, None, False, error=exc)

    items = client.iter_people() if every else accounts
    workers = client.settings["max_concurrency"]
    return [record for _item, record in bounded_map(one, items, workers, ordered=True)]
