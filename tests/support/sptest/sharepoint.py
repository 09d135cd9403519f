# -*- coding: utf-8 -*-
"""SharePoint REST subset (on-premises 2013+/Subscription Edition and Online), see REFERENCE.md section 4."""

import json
import re
import uuid
import zlib
from email.utils import formatdate
from urllib.parse import quote

from . import batch as batchfmt
from .odata import (Collection, Complex, ODataError, content_type, error_body, parse_literal,
                    resolve_args, shape_collection, shape_entity, shape_primitive)
from .people import SP_SIZES, placeholder

PEOPLE_SOURCE = "b09a7990-05ea-4af9-81ef-edfab16c4e31"
DOCID_BASE = 17592186044416
PARTITION = "3f1d2f0c-4a6b-4c4e-9a1e-7a8d2b9f6c11"
THROTTLED = "-2147024860, Microsoft.SharePoint.SPQueryThrottledException"
DEFAULT_SELECT = ["Rank", "DocId", "AccountName", "PreferredName", "WorkEmail", "PictureURL", "Path"]
DIGEST_REFUSED = ("-2130575252, Microsoft.SharePoint.SPException",
                  "The security validation for this page is invalid and might be corrupted. Please use your web "
                  "browser's Back button to try your operation again.")
# What a farm without $batch (SharePoint 2013) answers POST /_api/$batch with, by the status asked for.
BATCH_REFUSALS = {
    400: ("-1, Microsoft.SharePoint.Client.InvalidClientQueryException", "The request is invalid."),
    404: ("-1, Microsoft.SharePoint.Client.ResourceNotFoundException", "Cannot find resource for the request $batch."),
    405: ("-1, Microsoft.SharePoint.Client.ClientServiceException", "The HTTP method 'POST' is not allowed."),
    501: ("-1, Microsoft.SharePoint.Client.ClientServiceException", "The $batch query option is not implemented."),
}


class Response(object):
    def __init__(self, status, body=b"", ctype="application/json; charset=utf-8", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.status, self.body, self.ctype = status, body, ctype
        self.headers = dict(headers or {})


def split_segments(text):
    """'a/b(x=''/'')/$value' -> ['a', "b(x='/')", '$value'] (slashes inside literals kept)."""
    out, buf, depth, in_str = [], "", 0, False
    for ch in text:
        if ch == "'":
            in_str = not in_str
        elif not in_str and ch == "(":
            depth += 1
        elif not in_str and ch == ")":
            depth -= 1
        if ch == "/" and not in_str and depth == 0:
            out.append(buf)
            buf = ""
        else:
            buf += ch
    out.append(buf)
    return [s for s in out if s != ""]


def call_parts(segment):
    m = re.match(r"^([^()]+)(?:\((.*)\))?$", segment, re.S)
    if not m:
        return segment.lower(), None
    return m.group(1).lower(), m.group(2)


class SharePoint(object):
    """Stateless request handlers; ``app`` is the SPTestServer."""

    def __init__(self, app):
        self.app = app

    # --- helpers -----------------------------------------------------------------------------
    def odata_mode(self, req, flavor):
        forced = self.app.odata
        accept = (req.headers.get("Accept") or "").lower()
        if forced in ("verbose", "nometadata", "minimal"):
            return forced
        legacy = flavor == "onprem" and self.app.onprem_version == "2013"
        if "odata=verbose" in accept:
            return "verbose"
        for token, mode in (("odata=nometadata", "nometadata"), ("odata=minimalmetadata", "minimal"),
                            ("odata=fullmetadata", "minimal")):
            if token in accept:
                if legacy:
                    raise ODataError(400, "-1, Microsoft.SharePoint.Client.ClientServiceException",
                                     "The HTTP header ACCEPT is missing or its value is invalid.")
                return mode
        if "application/json" in accept:
            return "verbose" if legacy else "minimal"
        return "atom"

    def sp_error(self, mode, status, code, message, headers=None):
        if mode == "atom":
            mode = "verbose"
        return Response(status, error_body(mode, code, message), content_type(mode), headers)

    @staticmethod
    def mysite_root(flavor):
        return "/my" if flavor == "onprem" else "/spo-my"

    def picture_url(self, person, flavor, base, letter="M"):
        if not person.has_photo:
            return None
        root = self.mysite_root(flavor)
        if flavor == "onprem":
            path = u"%s/User Photos/%s/%s" % (root, person.photo_folder, person.onprem_file(letter))
            return base + quote(path, safe="/'")
        path = u"%s/User Photos/%s/%s" % (root, person.photo_folder, person.online_file(letter))
        return base + quote(path, safe="/'") + "?t=%d" % person.picture_timestamp()

    def file_index(self, flavor):
        cache = self.app._file_index
        if flavor not in cache:
            index = {}
            root = self.mysite_root(flavor)
            for person in self.app.people.people:
                for letter in SP_SIZES:
                    name = person.onprem_file(letter) if flavor == "onprem" else person.online_file(letter)
                    path = u"%s/User Photos/%s/%s" % (root, person.photo_folder, name)
                    index[path.lower()] = (person, letter, path)
            cache[flavor] = index
        return cache[flavor]

    def lookup_account(self, flavor, account):
        people = self.app.people
        low = account.strip().lower()
        if flavor == "onprem":
            if low.startswith("i:0#.w|"):
                low = low[7:]
            if "\\" in low and "|" not in low:
                return people.by_account(low)
            return None
        if low.startswith("i:0#.f|membership|"):
            return people.by_upn(low[18:])
        return None

    def person_properties(self, person, flavor, base):
        my = base + self.mysite_root(flavor)
        picture = self.picture_url(person, flavor, base)
        if flavor == "onprem":
            account, user_name = person.claims_onprem(), person.sam
            prop_account = person.account
            personal = u"%s/personal/%s/" % (my, quote(person.sam.lower(), safe=""))
            user_url = u"%s/Person.aspx?accountname=%s" % (my, quote(person.account, safe=""))
        else:
            account, user_name = person.claims_online(), person.upn
            prop_account = account
            personal = u"%s/personal/%s/" % (my, re.sub(r"[^a-z0-9]", "_", person.upn.lower()))
            user_url = u"%s/Person.aspx?accountname=%s" % (my, quote(account, safe=""))
        names = person.display_name.split(" ", 1)
        props = [
            ("UserProfile_GUID", person.profile_guid), ("SID", person.sid), ("ADGuid", ""),
            ("AccountName", prop_account), ("FirstName", names[0]), ("LastName", names[-1] if len(names) > 1 else ""),
            ("PreferredName", person.display_name), ("WorkPhone", ""), ("Department", ""), ("Title", ""),
            ("Manager", ""), ("AboutMe", ""), ("PersonalSpace", personal[len(base):]),
            # SharePoint Online: the property has no ?t=; the top-level PictureUrl is the property + ?t=<timestamp>.
            ("PictureURL", (picture or "").split("?", 1)[0]), ("UserName", user_name), ("WebSite", ""),
            ("SPS-DistinguishedName", person.dn), ("WorkEmail", person.email),
            ("SPS-UserPrincipalName", person.upn),
        ]
        if person.placeholder and flavor == "onprem":
            props.append(("SPS-PicturePlaceholderState", "1"))  # SharePoint 2016 and later have it too
        shown = person.has_photo and not person.placeholder  # what SharePoint itself shows
        if flavor == "online":
            props += [("SPS-PictureTimestamp", str(person.picture_timestamp()) if person.has_photo else ""),
                      ("SPS-PicturePlaceholderState", "0" if shown else "1"),
                      ("SPS-PictureExchangeSyncState", "0"),
                      ("msOnline-ObjectId", person.object_id)]
        kv = [Complex("SP.KeyValue", {"Key": k, "Value": v, "ValueType": "Edm.String"}) for k, v in props]
        return Complex("SP.UserProfiles.PersonProperties", {
            "AccountName": account,
            "DirectReports": Collection("Edm.String", []),
            "DisplayName": person.display_name,
            "Email": person.email,
            "ExtendedManagers": Collection("Edm.String", []),
            "ExtendedReports": Collection("Edm.String", [account]),
            "IsFollowed": False,
            "LatestPost": None,
            "Peers": Collection("Edm.String", []),
            "PersonalSiteHostUrl": my + "/",
            "PersonalUrl": personal,
            # On-premises the top-level PictureUrl can be null beside a valid PictureURL (picture_url_null);
            # SharePoint Online has it for every real photo and null for placeholders.
            "PictureUrl": None if (not shown or (person.picture_url_null and flavor == "onprem")) else picture,
            "Title": None,
            "UserProfileProperties": Collection("SP.KeyValue", kv),
            "UserUrl": user_url,
        })

    @staticmethod
    def null_properties():
        """What SharePoint answers (verbose) for an account without a profile: the entity, all null."""
        return Complex("SP.UserProfiles.PersonProperties", {
            "AccountName": None, "DirectReports": Collection("Edm.String", []), "DisplayName": None,
            "Email": None, "ExtendedManagers": Collection("Edm.String", []),
            "ExtendedReports": Collection("Edm.String", []), "IsFollowed": False, "LatestPost": None,
            "Peers": Collection("Edm.String", []), "PersonalSiteHostUrl": None, "PersonalUrl": None,
            "PictureUrl": None, "Title": None, "UserProfileProperties": Collection("SP.KeyValue", []),
            "UserUrl": None,
        })

    # --- dispatch ------------------------------------------------------------------------------
    def handle(self, req, flavor, site_root, user):
        rest = req.path[len(site_root):]
        low = rest.lower()
        base = req.base
        try:
            if low.startswith("/_layouts/15/userphoto.aspx"):
                return self.userphoto(req, flavor)
            if low.startswith("/_api/") or low == "/_api":
                mode = self.odata_mode(req, flavor)
                if req.method == "POST" and low == "/_api/contextinfo":
                    return self.context_info(flavor, site_root, mode, base)
                if req.method == "POST" and low == "/_api/$batch":
                    return self.batch(req, flavor, site_root, user)
                if user == "restricted":
                    raise ODataError(403, "-2147024891, System.UnauthorizedAccessException",
                                     "Access denied. You do not have permission to perform this action or "
                                     "access this resource.")
                return self.api(req, flavor, site_root, rest[5:], mode, base)
            if site_root == self.mysite_root(flavor):
                return self.file(req, flavor, req.path, value=True)
            return Response(404, "<html><body>404 NOT FOUND</body></html>", "text/html; charset=utf-8")
        except ODataError as exc:
            try:
                mode = self.odata_mode(req, flavor)
            except ODataError:
                mode = "verbose"
            return self.sp_error(mode, exc.status, exc.code, exc.message, exc.headers)

    # --- form digest and $batch ---------------------------------------------------------------------
    def context_info(self, flavor, site_root, mode, base):
        """POST /_api/contextinfo: the form digest a Windows-authenticated POST must carry (X-RequestDigest)."""
        api_base = base + site_root + "/_api"
        value, lifetime = self.app.issue_digest(site_root)
        info = Complex("SP.ContextWebInformation", {
            "FormDigestTimeoutSeconds": lifetime, "FormDigestValue": value,
            "LibraryVersion": "15.0.4569.1000" if self.app.onprem_version == "2013" and flavor == "onprem"
            else "16.0.0.0",
            "SiteFullUrl": base + site_root,
            "SupportedSchemaVersions": Collection("Edm.String", ["14.0.0.0", "15.0.0.0"]),
            "WebFullUrl": base + site_root})
        if mode == "verbose" or mode == "atom":
            body = {"d": {"GetContextWebInformation": shape_entity("verbose", info, "GetContextWebInformation", "")["d"]}}
            mode = "verbose"
        else:
            body = shape_entity(mode, info, "GetContextWebInformation", api_base)
        return Response(200, body, content_type(mode))

    def batch(self, req, flavor, site_root, user):
        """POST /_api/$batch (SharePoint Online, 2016 and later): GET parts answered in order, each on its own."""
        app = self.app
        if not app.batch_enabled(flavor):
            code, message = BATCH_REFUSALS.get(app.batch_refusal, BATCH_REFUSALS[404])
            raise ODataError(app.batch_refusal, code, message)
        if flavor == "onprem" and not app.digest_ok(req.headers.get("X-RequestDigest"), site_root):
            raise ODataError(403, *DIGEST_REFUSED)
        try:
            parts = batchfmt.parse_request(req.headers.get("Content-Type"), req.body)
        except batchfmt.BatchRequestError as exc:
            raise ODataError(400, "-1, Microsoft.Data.OData.ODataException", str(exc))
        answers = []
        targets = []
        for part in parts:
            if isinstance(part, batchfmt.BatchRequestError):
                answers.append(self._part_error(400, "-1, Microsoft.Data.OData.ODataException", str(part)))
                continue
            method, url, headers = part
            target = self._same_site(url, req, site_root)
            targets.append(target)
            if target is None:
                answers.append(self._part_error(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                                                "The request URL and the URLs inside the body must target the "
                                                "same site."))
                continue
            if method != "GET":
                answers.append(self._part_error(400, "-1, Microsoft.SharePoint.Client.ClientServiceException",
                                                "This test server answers GET parts only."))
                continue
            resp = app._sp_subrequest(req, method, target, headers, flavor, site_root, user)
            answers.append(resp if isinstance(resp, bytes) else (resp.status, resp.ctype, resp.headers, resp.body))
        app.batch_log.append({"site": site_root, "parts": len(parts), "targets": targets})
        ctype, body = batchfmt.build_response(answers, line_end=app.batch_line_end,
                                              quote_boundary=app.batch_quote_boundary)
        return Response(200, body, ctype)

    @staticmethod
    def _part_error(status, code, message):
        return (status, content_type("verbose"), {}, json.dumps(error_body("verbose", code, message)).encode("utf-8"))

    @staticmethod
    def _same_site(url, req, site_root):
        """The path and query of a part's URL when it targets this site (absolute on this host, or
        server-relative), else None."""
        m = re.match(r"^(https?://[^/]+)?(/[^?#]*)(\?[^#]*)?$", url)
        if not m or (m.group(1) and m.group(1).lower() != req.base.lower()):
            return None
        path = m.group(2)
        if not (path == site_root or path.startswith(site_root + "/")):
            return None
        return path + (m.group(3) or "")

    def api(self, req, flavor, site_root, api_path, mode, base):
        api_base = base + site_root + "/_api"
        segs = split_segments(api_path.lstrip("/"))
        parts = [call_parts(s) for s in segs]
        names = [p[0] for p in parts]
        if mode == "atom" and names[-1:] != ["$value"]:
            return Response(200, '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                            '<!-- this test server answers JSON only: send Accept: application/json;odata=... -->'
                            '</feed>', "application/atom+xml;type=feed;charset=utf-8")
        if names[:1] == ["sp.userprofiles.peoplemanager"] and len(parts) == 2:
            fn, raw = parts[1]
            args = resolve_args(raw or "", req.query)
            if fn == "getpropertiesfor":
                return self.get_properties(flavor, args, mode, base, api_base)
            if fn == "getuserprofilepropertyfor":
                return self.get_property(flavor, args, mode, base, api_base)
        if names == ["search", "query"]:
            return self.search(req, flavor, mode, base)
        if names[:1] == ["web"]:
            if len(parts) == 1:
                web = Complex("SP.Web", {"Id": str(uuid.uuid5(uuid.NAMESPACE_URL, site_root)),
                                         "Title": site_root.strip("/"), "ServerRelativeUrl": site_root,
                                         "Url": base + site_root},
                              uri=api_base + "/Web")
                return Response(200, shape_entity(mode, web, "Web", api_base), content_type(mode))
            fn, raw = parts[1]
            if fn == "getfilebyserverrelativeurl" and raw is not None:
                args = resolve_args(raw, req.query)
                url = list(args.values())[0] if args else ""
                rest = names[2:]
                if rest == ["$value"]:
                    return self.file(req, flavor, url, value=True, site_root=site_root)
                if not rest:
                    return self.file(req, flavor, url, value=False, site_root=site_root, mode=mode,
                                     api_base=api_base)
            if fn == "getfolderbyserverrelativeurl" and raw is not None and names[2:] == ["files"]:
                args = resolve_args(raw, req.query)
                return self.folder_files(req, flavor, list(args.values())[0] if args else "", mode, base,
                                         api_base, site_root)
        raise ODataError(404, "-1, Microsoft.SharePoint.Client.ResourceNotFoundException",
                         "Cannot find resource for the request %s." % (segs[-1] if segs else ""))

    # --- profiles --------------------------------------------------------------------------------
    def _profile_person(self, flavor, args):
        account = args.get("accountname")
        if account is None:
            raise ODataError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                             "The parameter accountName does not exist in method GetPropertiesFor.")
        person = self.lookup_account(flavor, account)
        state = person.profile if person else self.app.unknown_account
        if state == "404":
            raise ODataError(404, "-2146232832, Microsoft.Office.Server.UserProfiles.UserNotFoundException",
                             "User Profile Error 1000: User Not Found: Could not load profile data from the "
                             "database.")
        if state == "500":
            raise ODataError(500, "-2146232832, Microsoft.Office.Server.UserProfiles.UserNotFoundException",
                             "User Profile Error 1000: User Not Found: Could not load profile data from the "
                             "database.")
        return person if state == "ok" else None

    def get_properties(self, flavor, args, mode, base, api_base):
        person = self._profile_person(flavor, args)
        if person is None:
            body = {"d": self.null_properties_verbose()} if mode == "verbose" else {"odata.null": True}
            return Response(200, body, content_type(mode))
        entity = self.person_properties(person, flavor, base)
        entity.uri = api_base + "/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)"
        return Response(200, shape_entity(mode, entity, "GetPropertiesFor", api_base), content_type(mode))

    def null_properties_verbose(self):
        return shape_entity("verbose", self.null_properties(), "GetPropertiesFor", "")["d"]

    def get_property(self, flavor, args, mode, base, api_base):
        prop = (args.get("propertyname") or "").lower()
        person = self._profile_person(flavor, args)
        value = ""
        if person is not None:
            for item in self.person_properties(person, flavor, base).props["UserProfileProperties"].items:
                if item.props["Key"].lower() == prop:
                    value = item.props["Value"]
        return Response(200, shape_primitive(mode, value, "GetUserProfilePropertyFor", api_base), content_type(mode))

    # --- photos ------------------------------------------------------------------------------------
    def file(self, req, flavor, server_relative, value=True, site_root=None, mode="verbose", api_base=""):
        if site_root is not None and site_root != self.mysite_root(flavor):
            entry = None
        else:
            entry = self.file_index(flavor).get(server_relative.lower())
        if entry is None or not entry[0].has_photo:
            if value and site_root is None:
                return Response(404, "<html><body>404 FILE NOT FOUND</body></html>", "text/html; charset=utf-8")
            raise ODataError(404, "-2130575338, Microsoft.SharePoint.SPException",
                             "The file %s does not exist." % server_relative)
        person, letter, path = entry
        data = person.photos.sp(letter)
        etag = person.etag()
        headers = {"ETag": etag, "Last-Modified": formatdate(person.changed, usegmt=True)}
        if not value:
            meta = Complex("SP.File", {
                "ETag": etag, "Exists": True, "Length": str(len(data)), "Name": path.rsplit("/", 1)[1],
                "ServerRelativeUrl": path, "TimeLastModified": _iso(person.changed),
                "UniqueId": person.file_guid.lower(), "UIVersion": 512 * person.version,
            }, uri=api_base + "/Web/GetFileByServerRelativeUrl('%s')" % path.replace("'", "''"))
            return Response(200, shape_entity(mode, meta, "GetFileByServerRelativeUrl", api_base),
                            content_type(mode), headers)
        if req.headers.get("If-None-Match") == etag:
            return Response(304, b"", "image/jpeg", headers)
        return Response(200, data, "image/jpeg", headers)

    def folder_files(self, req, flavor, folder, mode, base, api_base, site_root):
        folder_low = folder.rstrip("/").lower()
        files = [(p, letter, path) for key, (p, letter, path) in sorted(self.file_index(flavor).items())
                 if key.rsplit("/", 1)[0] == folder_low and p.has_photo and site_root == self.mysite_root(flavor)]
        if len(files) > self.app.folder_threshold:
            raise ODataError(500, THROTTLED,
                             "The attempted operation is prohibited because it exceeds the list view threshold.")
        items = [Complex("SP.File", {"ETag": p.etag(), "Length": str(len(p.photos.sp(letter))),
                                     "Name": path.rsplit("/", 1)[1], "ServerRelativeUrl": path,
                                     "TimeLastModified": _iso(p.changed)}) for p, letter, path in files]
        return Response(200, shape_collection(mode, items, "SP.File", api_base), content_type(mode))

    def userphoto(self, req, flavor):
        size = (req.query.get("size") or "M").upper()
        if size not in SP_SIZES:
            size = "M"
        account = req.query.get("accountname") or req.query.get("username") or ""
        person = self.app.people.find(account) if account else None
        if person is not None and person.has_photo and person.profile == "ok":
            return Response(200, person.photos.sp(size), "image/jpeg", {"ETag": person.etag()})
        return Response(200, placeholder(size), "image/jpeg", {"Cache-Control": "private, max-age=86400"})

    # --- search ------------------------------------------------------------------------------------
    def docid(self, person):
        return DOCID_BASE + 3 * person.index + 1

    def search(self, req, flavor, mode, base):
        q = req.query
        querytext = parse_literal(q.get("querytext", "''"))
        sourceid = parse_literal(q["sourceid"]).lower() if "sourceid" in q else ""
        select = parse_literal(q["selectproperties"]).split(",") if "selectproperties" in q else DEFAULT_SELECT
        select = [s.strip() for s in select if s.strip()]
        sortlist = parse_literal(q["sortlist"]).lower() if "sortlist" in q else ""
        try:
            rowlimit = int(q.get("rowlimit", "10"))
            startrow = int(q.get("startrow", "0"))
        except ValueError:
            raise ODataError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                             "Input string was not in a correct format.")
        rowlimit = max(0, min(rowlimit, 500))
        if startrow > self.app.startrow_cap:
            raise ODataError(500, THROTTLED,
                             "The StartRow value %d exceeds the maximum of %d. Page with IndexDocId and "
                             "sortlist='[docid]:ascending' instead." % (startrow, self.app.startrow_cap))
        people = [p for p in self.app.people.people if p.profile == "ok"] if sourceid == PEOPLE_SOURCE else []
        after, words = None, []
        for token in querytext.split():
            m = re.match(r"^indexdocid(>=|>)(\d+)$", token, re.I)
            if m:
                after = int(m.group(2)) - (1 if m.group(1) == ">=" else 0)
            elif token != "*":
                words.append(token.lower().strip('"'))
        if after is not None:
            people = [p for p in people if self.docid(p) > after]
        for word in words:
            word = word.rstrip("*")
            people = [p for p in people if word in p.account.lower() or word in p.upn.lower()
                      or word in p.display_name.lower()]
        if "docid" in sortlist:
            people.sort(key=self.docid, reverse="descending" in sortlist)
        else:
            people.sort(key=lambda p: zlib.crc32(p.account.lower().encode("utf-8")))
        page = people[startrow:startrow + rowlimit]
        rows = [Complex("SP.SimpleDataRow", {"Cells": Collection("SP.KeyValue", self.cells(p, flavor, base, select, i))})
                for i, p in enumerate(page)]
        relevant = Complex("Microsoft.Office.Server.Search.REST.RelevantResults", {
            "GroupTemplateId": None, "ItemTemplateId": None,
            "Properties": Collection("SP.KeyValue", [
                Complex("SP.KeyValue", {"Key": "RowLimit", "Value": str(rowlimit), "ValueType": "Edm.Int32"}),
                Complex("SP.KeyValue", {"Key": "SourceId", "Value": sourceid, "ValueType": "Edm.Guid"})]),
            "ResultTitle": None, "ResultTitleUrl": None, "RowCount": len(rows),
            "Table": Complex("SP.SimpleDataTable", {"Rows": Collection("SP.SimpleDataRow", rows)}),
            "TotalRows": len(people), "TotalRowsIncludingDuplicates": len(people),
        })
        result = Complex("Microsoft.Office.Server.Search.REST.SearchResult", {
            "ElapsedTime": 12,
            "PrimaryQueryResult": Complex("Microsoft.Office.Server.Search.REST.QueryResult", {
                "CustomResults": Collection("Microsoft.Office.Server.Search.REST.CustomResult", []),
                "QueryId": str(uuid.uuid4()), "QueryRuleId": "00000000-0000-0000-0000-000000000000",
                "RefinementResults": None, "RelevantResults": relevant, "SpecialTermResults": None}),
            "Properties": Collection("SP.KeyValue", []),
            "SecondaryQueryResults": Collection("Microsoft.Office.Server.Search.REST.QueryResult", []),
            "SpellingSuggestion": "",
            "TriggeredRules": Collection("Edm.Guid", []),
        })
        if mode == "verbose":
            body = {"d": {"query": shape_entity("verbose", result, "query", "")["d"]}}
        else:
            body = shape_entity(mode, result, "query", base + "/_api")
        return Response(200, body, content_type(mode))

    def cells(self, person, flavor, base, select, position):
        my = base + self.mysite_root(flavor)
        account = person.account if flavor == "onprem" else person.claims_online()
        values = {
            "accountname": account, "workemail": person.email, "preferredname": person.display_name,
            "pictureurl": self.picture_url(person, flavor, base), "userprofile_guid": person.profile_guid,
            "sps-userprincipalname": person.upn, "username": person.sam if flavor == "onprem" else person.upn,
            "path": u"%s/Person.aspx?accountname=%s" % (my, quote(account, safe="")),
            "title": person.display_name, "aadobjectid": person.object_id if flavor == "online" else None,
        }
        cells = [("Rank", "%.6f" % (20.0 - position * 0.001), "Edm.Double"),
                 ("DocId", str(self.docid(person)), "Edm.Int64")]
        for name in select:
            low = name.lower()
            if low in ("rank", "docid"):
                continue
            value = values.get(low)
            cells.append((name, value, "Edm.String" if value is not None else "Null"))
        cells += [("PartitionId", PARTITION, "Edm.Guid"), ("UrlZone", "0", "Edm.Int32"),
                  ("Culture", "en-US", "Edm.String"), ("ResultTypeId", "0", "Edm.Int32"),
                  ("RenderTemplateId", "~sitecollection/_catalogs/masterpage/Display Templates/Search/"
                                       "Item_Person.js", "Edm.String")]
        return [Complex("SP.KeyValue", {"Key": k, "Value": v, "ValueType": t}) for k, v, t in cells]


def _iso(epoch):
    import time as _time
    return _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(epoch))
