# -*- coding: utf-8 -*-
"""Microsoft Graph v1.0 subset: user photos, sizes, metadata, $batch, users paging."""

import base64
import datetime
import json
import random
import re
import uuid
from urllib.parse import quote

from .people import GRAPH_SIZES
from .sharepoint import Response

GRAPH_CT = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
BATCH_MAX = 20
TOP_MAX = 999
DEFAULT_SELECT = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                  "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"]


def graph_error(status, code, message, headers=None):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    rid = str(uuid.uuid4())
    body = {"error": {"code": code, "message": message,
                      "innerError": {"date": now, "request-id": rid, "client-request-id": rid}}}
    return Response(status, body, GRAPH_CT, headers)


GRAPH_FAULTS = {
    400: ("BadRequest", "Bad request."),
    401: ("InvalidAuthenticationToken", "Access token validation failure."),
    403: ("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
    404: ("Request_ResourceNotFound", "Resource could not be discovered."),
    429: ("TooManyRequests", "Too many requests, please retry after the time in the Retry-After header."),
    500: ("generalException", "An unexpected error occurred."),
    502: ("badGateway", "Bad gateway."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable."),
    504: ("gatewayTimeout", "Gateway timeout."),
}


def image_not_found():
    return graph_error(404, "ImageNotFound",
                       "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.")


class Graph(object):
    def __init__(self, app):
        self.app = app
        self._rng = random.Random(4242)

    def base(self, req):
        return req.base + "/graph/v1.0"

    def user(self, ident):
        person = self.app.people.by_oid(ident) or self.app.people.by_upn(ident)
        if person is None or person.profile != "ok":
            return None
        return person

    def handle(self, req, sub):
        """``sub`` is the path after /graph/v1.0 (decoded)."""
        if req.method == "POST" and sub.lower() == "/$batch":
            return self.batch(req)
        if req.method != "GET" and req.method != "HEAD":
            return graph_error(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
        if sub.rstrip("/").lower() == "/users":
            return self.users(req)
        m = re.match(r"^/users/([^/]+)(/.*)?$", sub, re.I)
        if not m:
            return graph_error(400, "BadRequest", "Resource not found for the segment '%s'." % sub.strip("/").split("/")[0])
        ident, rest = m.group(1), (m.group(2) or "").rstrip("/")
        ident = ident.strip("'")
        person = self.user(ident)
        if person is None:
            return graph_error(404, "Request_ResourceNotFound",
                               "Resource '%s' does not exist or one of its queried reference-property objects "
                               "are not present." % ident)
        low = rest.lower()
        if low == "":
            return Response(200, self.user_json(req, person, self.select(req)), GRAPH_CT)
        if low in ("/photo", "/photo/$value"):
            return self.photo(req, person, None, low.endswith("$value"))
        if low == "/photos":
            if not person.has_photo:
                return Response(200, {"@odata.context": self.base(req) + "/$metadata#users('%s')/photos" % person.object_id,
                                      "value": []}, GRAPH_CT)
            return Response(200, {"@odata.context": self.base(req) + "/$metadata#users('%s')/photos" % person.object_id,
                                  "value": [self.meta(req, person, s) for s in person.photos.graph_sizes()]}, GRAPH_CT)
        m = re.match(r"^/photos/([^/]+)(/\$value)?$", rest, re.I)
        if m:
            size = m.group(1).lower()
            sm = re.match(r"^(\d+)x(\d+)$", size)
            if not sm or sm.group(1) != sm.group(2) or int(sm.group(1)) not in GRAPH_SIZES:
                return image_not_found()
            return self.photo(req, person, int(sm.group(1)), bool(m.group(2)))
        return graph_error(400, "BadRequest", "Resource not found for the segment '%s'." % rest.strip("/").split("/")[0])

    def select(self, req):
        sel = req.query.get("$select")
        return [s.strip() for s in sel.split(",") if s.strip()] if sel else DEFAULT_SELECT

    def user_json(self, req, person, select):
        names = person.display_name.split(" ", 1)
        full = {
            "id": person.object_id, "userPrincipalName": person.upn, "mail": person.email,
            "displayName": person.display_name, "givenName": names[0],
            "surname": names[1] if len(names) > 1 else None, "businessPhones": [], "jobTitle": None,
            "mobilePhone": None, "officeLocation": None, "preferredLanguage": None, "accountEnabled": True,
            "onPremisesSamAccountName": person.sam, "onPremisesDomainName": self.app.realm,
            "onPremisesDistinguishedName": person.dn, "onPremisesSecurityIdentifier": person.sid,
            "onPremisesImmutableId": base64.b64encode(uuid.UUID(person.object_id).bytes_le).decode(),
        }
        return dict((k, full.get(k)) for k in select)

    def meta(self, req, person, size=None):
        if size is None:
            w, h = person.photos.dims()
            pid = "%dX%d" % (w, h) if max(w, h) <= 648 else "648X648"
        else:
            from PIL import Image
            import io
            w, h = Image.open(io.BytesIO(person.photos.rendition(size))).size
            pid = "%dX%d" % (size, size)
        return {"@odata.mediaContentType": "image/jpeg", "@odata.mediaEtag": person.media_etag(),
                "id": pid, "width": w, "height": h}

    def photo(self, req, person, size, value):
        if not person.has_photo:
            return image_not_found()
        if size is not None and size not in person.photos.graph_sizes():
            return image_not_found()
        if not value:
            body = {"@odata.context": self.base(req) + "/$metadata#users('%s')/photo/$entity" % person.object_id}
            body.update(self.meta(req, person, size))
            return Response(200, body, GRAPH_CT)
        data = person.photos.original() if size is None else person.photos.rendition(size)
        return Response(200, data, "image/jpeg", {"ETag": 'W/%s' % person.media_etag()})

    def users(self, req):
        top = req.query.get("$top")
        try:
            top = int(top) if top is not None else 100
        except ValueError:
            return graph_error(400, "Request_BadRequest", "Invalid page size specified: '%s'." % top)
        if top < 1 or top > TOP_MAX:
            return graph_error(400, "Request_UnsupportedQuery",
                               "Invalid page size specified: '%d'. Must be between 1 and %d inclusive." % (top, TOP_MAX))
        skip = 0
        token = req.query.get("$skiptoken")
        if token:
            try:
                skip = int(base64.urlsafe_b64decode(token.encode("ascii") + b"==").decode("ascii").split(":")[1])
            except (ValueError, IndexError):
                return graph_error(400, "Directory_ExpiredPageToken", "The specified page token value has expired.")
        people = [p for p in self.app.people.people if p.profile == "ok"]
        select = self.select(req)
        page = people[skip:skip + top]
        body = {"@odata.context": self.base(req) + "/$metadata#users(%s)" % ",".join(select),
                "value": [self.user_json(req, p, select) for p in page]}
        if skip + top < len(people):
            tok = base64.urlsafe_b64encode(("pg:%d" % (skip + top)).encode("ascii")).decode("ascii").rstrip("=")
            params = []
            if req.query.get("$select"):
                params.append("$select=" + quote(req.query["$select"], safe=",$"))
            params.append("$top=%d" % top)
            params.append("$skiptoken=" + tok)
            body["@odata.nextLink"] = self.base(req) + "/users?" + "&".join(params)
        return Response(200, body, GRAPH_CT)

    def batch(self, req):
        try:
            payload = json.loads(req.body.decode("utf-8") or "{}")
            requests_ = payload["requests"]
            if not isinstance(requests_, list):
                raise ValueError("requests is not a list")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return graph_error(400, "BadRequest", "Invalid batch payload format.")
        if len(requests_) > BATCH_MAX:
            return graph_error(400, "BadRequest",
                               "The number of requests in a batch must not exceed %d." % BATCH_MAX)
        ids = [str(r.get("id")) for r in requests_ if isinstance(r, dict)]
        if len(set(ids)) != len(ids) or len(ids) != len(requests_):
            return graph_error(400, "BadRequest", "Batch request ids must be unique.")
        responses = []
        for item in requests_:
            resp = self.app._graph_subrequest(req, item)
            entry = {"id": str(item.get("id")), "status": resp.status,
                     "headers": dict(resp.headers, **{"Content-Type": resp.ctype.split(";")[0] if resp.ctype else ""})}
            if resp.ctype.startswith("application/json"):
                entry["headers"]["Content-Type"] = "application/json"
                entry["body"] = json.loads(resp.body.decode("utf-8")) if resp.body else None
            elif resp.body:
                entry["body"] = base64.b64encode(resp.body).decode("ascii")
            responses.append(entry)
        with self.app._lock:
            self._rng.shuffle(responses)
        return Response(200, {"responses": responses}, GRAPH_CT)
