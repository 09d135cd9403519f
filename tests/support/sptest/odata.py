# -*- coding: utf-8 -*-
"""OData bits SharePoint uses: parameter literals and aliases, the verbose / minimal / nometadata
JSON shapes, and SharePoint's error body."""

from urllib.parse import unquote_plus


class ODataError(Exception):
    """An error answered in SharePoint's error JSON shape."""

    def __init__(self, status, code, message, headers=None):
        Exception.__init__(self, message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def parse_query(raw_query):
    """Split a raw query string like ASP.NET does: on '&', each name and value percent-decoded with
    '+' meaning a space (so a literal '+' must be sent as %2B)."""
    out = {}
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        name, dummy, value = part.partition("=")
        out[unquote_plus(name).lower()] = unquote_plus(value)
    return out


def parse_literal(text):
    """An OData string literal 'abc' with '' for a quote -> abc."""
    text = text.strip()
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        raise ODataError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                         "The expression \"%s\" is not valid." % text)
    body = text[1:-1]
    if "'" in body.replace("''", ""):
        raise ODataError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                         "The expression \"%s\" is not valid." % text)
    return body.replace("''", "'")


def split_args(text):
    """'a=@v,b=''x,y''' -> [('a', '@v'), ('b', "'x,y'")]; commas inside literals are kept."""
    args, buf, in_str, i = [], "", False, 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            if in_str and i + 1 < len(text) and text[i + 1] == "'":
                buf += "''"
                i += 2
                continue
            in_str = not in_str
        if ch == "," and not in_str:
            args.append(buf)
            buf = ""
        else:
            buf += ch
        i += 1
    if buf.strip():
        args.append(buf)
    out = []
    for arg in args:
        name, eq, value = arg.partition("=")
        if eq:
            out.append((name.strip().lower(), value.strip()))
        else:
            out.append((None, name.strip()))
    return out


def resolve_args(raw_args, query):
    """Function-call arguments (from the already percent-decoded path, as IIS hands it to SharePoint)
    to a dict of values. ``@alias`` values are looked up in the (decoded) query string."""
    out = {}
    for name, value in split_args(raw_args):
        if value.startswith("@"):
            alias = value.lower()
            if alias not in query:
                raise ODataError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                                 "The parameter alias %s is not defined." % value)
            value = query[alias]
        out[name] = parse_literal(value)
    return out


class Collection(object):
    def __init__(self, item_type, items):
        self.item_type, self.items = item_type, items


class Complex(object):
    """A complex value or entity: SP type name + ordered properties."""

    def __init__(self, type_name, props, uri=None):
        self.type_name, self.props, self.uri = type_name, props, uri


def _verbose(value):
    if isinstance(value, Complex):
        meta = {"type": value.type_name}
        if value.uri:
            meta = {"id": value.uri, "uri": value.uri, "type": value.type_name}
        out = {"__metadata": meta}
        for k, v in value.props.items():
            out[k] = _verbose(v)
        return out
    if isinstance(value, Collection):
        return {"__metadata": {"type": "Collection(%s)" % value.item_type},
                "results": [_verbose(i) for i in value.items]}
    return value


def _plain(value):
    if isinstance(value, Complex):
        return dict((k, _plain(v)) for k, v in value.props.items())
    if isinstance(value, Collection):
        return [_plain(i) for i in value.items]
    return value


def shape_entity(mode, entity, name, api_base):
    """Top-level result of a function returning an entity/complex (or None)."""
    if mode == "verbose":
        if entity is None:
            return {"d": {name: None}}
        return {"d": _verbose(entity)}
    if entity is None:
        return {"odata.null": True}
    out = _plain(entity)
    if mode == "minimal":
        meta = {"odata.metadata": "%s/$metadata#%s" % (api_base, entity.type_name)}
        meta.update(out)
        out = meta
    return out


def shape_primitive(mode, value, name, api_base, edm="Edm.String"):
    if mode == "verbose":
        return {"d": {name: value}}
    out = {"value": value}
    if mode == "minimal":
        out = {"odata.metadata": "%s/$metadata#%s" % (api_base, edm), "value": value}
    return out


def shape_collection(mode, items, item_type, api_base):
    if mode == "verbose":
        return {"d": {"results": [_verbose(i) for i in items]}}
    out = {"value": [_plain(i) for i in items]}
    if mode == "minimal":
        out = {"odata.metadata": "%s/$metadata#%s" % (api_base, item_type), "value": out["value"]}
    return out


def content_type(mode):
    if mode == "verbose":
        return "application/json;odata=verbose;charset=utf-8"
    if mode == "minimal":
        return "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"
    return "application/json;odata=nometadata;streaming=true;charset=utf-8"


def error_body(mode, code, message):
    inner = {"code": code, "message": {"lang": "en-US", "value": message}}
    return {"error": inner} if mode == "verbose" else {"odata.error": inner}


SP_ERRORS = {
    400: ("-1, Microsoft.SharePoint.Client.InvalidClientQueryException", "The request is invalid."),
    401: ("-2147024891, System.UnauthorizedAccessException", "Access denied."),
    403: ("-2147024891, System.UnauthorizedAccessException",
          "Access denied. You do not have permission to perform this action or access this resource."),
    404: ("-2147024894, System.IO.FileNotFoundException", "File Not Found."),
    429: ("-2147024860, Microsoft.SharePoint.SPRequestThrottledException",
          "The request has been throttled. Retry after the time in the Retry-After header."),
    500: ("-2146232832, Microsoft.SharePoint.SPException", "An unexpected error has occurred."),
    503: ("-2147023728, Microsoft.SharePoint.SPServerTooBusyException", "Server too busy."),
}
