# -*- coding: utf-8 -*-
"""SharePoint's OData v3 ``$batch``: the multipart/mixed request and answer, written here independently of
the collection's own code (the test server must not share the client's bugs).

Request: ``POST {site}/_api/$batch`` with ``Content-Type: multipart/mixed; boundary=batch_<uuid>``; each part
``Content-Type: application/http``, ``Content-Transfer-Encoding: binary``, a blank line, then an HTTP request
(``GET <absolute url> HTTP/1.1``, headers, blank line).  Answer: ``multipart/mixed; boundary=batchresponse_<uuid>``,
one ``application/http`` part per request in the same order, each a whole HTTP response.  Lines end in CRLF;
the parser accepts bare LF too, as SharePoint does (PnPjs writes LF).
"""

import re
import uuid
from http.client import responses as REASONS


class BatchRequestError(ValueError):
    """The batch request itself cannot be read (answered 400 as a whole)."""


class CIHeaders(object):
    """Case-insensitive headers for a sub-request (what handlers call ``req.headers.get`` on)."""

    def __init__(self, pairs=()):
        self._items = {}
        for name, value in pairs:
            self._items[name.lower()] = (name, value)

    def get(self, name, default=None):
        item = self._items.get(name.lower())
        return item[1] if item else default

    def items(self):
        return list(self._items.values())

    def __contains__(self, name):
        return name.lower() in self._items


def boundary_of(content_type):
    """The boundary parameter of a multipart/mixed Content-Type (quoted or not), or None."""
    if not content_type or content_type.split(";", 1)[0].strip().lower() != "multipart/mixed":
        return None
    m = re.search(r';\s*boundary\s*=\s*("([^"]*)"|[^;\s]+)', content_type, re.I)
    if not m:
        return None
    return m.group(2) if m.group(2) is not None else m.group(1)


def _headers(block):
    pairs = []
    for line in re.split(rb"\r?\n", block):
        if not line.strip():
            continue
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise BatchRequestError("not a header line: %r" % line[:60])
        pairs.append((name.strip(), value.strip()))
    return pairs


def parse_request(content_type, body):
    """[(method, url, CIHeaders) | BatchRequestError for a part that cannot be read], in order."""
    boundary = boundary_of(content_type)
    if boundary is None:
        raise BatchRequestError("The content type of a $batch request must be multipart/mixed with a boundary.")
    delimiter = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary.encode("latin-1")) + rb"(--)?[ \t]*(?:\r?\n|$)")
    marks = list(delimiter.finditer(body))
    if not marks:
        raise BatchRequestError("The batch request body holds no part delimited by its boundary.")
    parts = []
    for here, after in zip(marks, marks[1:] + [None]):
        if here.group(1):
            break
        if after is None:
            raise BatchRequestError("The batch request body does not end with its close delimiter.")
        chunk = body[here.end():after.start()]
        split = re.search(rb"\r?\n\r?\n", chunk)
        if chunk.startswith((b"\r\n", b"\n")):
            mime, message = b"", chunk.lstrip(b"\r\n")
        elif split is None:
            parts.append(BatchRequestError("A part has no blank line after its MIME headers."))
            continue
        else:
            mime, message = chunk[:split.start()], chunk[split.end():]
        try:
            mime_headers = CIHeaders(_headers(mime))
        except BatchRequestError as exc:
            parts.append(exc)
            continue
        if (mime_headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/http":
            parts.append(BatchRequestError("A part of a $batch request must be application/http."))
            continue
        lines = re.split(rb"\r?\n", message, maxsplit=1)
        request_line = lines[0].decode("utf-8", "replace").strip()
        m = re.match(r"^([A-Z]+) (\S+) HTTP/1\.[01]$", request_line)
        if not m:
            parts.append(BatchRequestError("%r is not an HTTP request line." % request_line[:80]))
            continue
        rest = lines[1] if len(lines) > 1 else b""
        head = re.split(rb"\r?\n\r?\n", rest, maxsplit=1)[0]
        try:
            headers = CIHeaders(_headers(head))
        except BatchRequestError as exc:
            parts.append(exc)
            continue
        parts.append((m.group(1), m.group(2), headers))
    return parts


def build_response(parts, line_end="\r\n", quote_boundary=False):
    """``(content_type, body)`` of a batch answer; ``parts`` are (status, ctype, headers, body bytes) tuples,
    or raw bytes for a part whose content is written as given (a malformed part)."""
    boundary = "batchresponse_%s" % uuid.uuid4()
    eol = line_end.encode("ascii")
    out = []
    for part in parts:
        out.append(b"--" + boundary.encode("ascii") + eol)
        out.append(b"Content-Type: application/http" + eol)
        out.append(b"Content-Transfer-Encoding: binary" + eol + eol)
        if isinstance(part, bytes):
            out.append(part + eol)
            continue
        status, ctype, headers, body = part
        out.append(("HTTP/1.1 %d %s" % (status, REASONS.get(status, "Unknown"))).encode("ascii") + eol)
        # SharePoint writes CONTENT-TYPE in capitals inside batch answers.
        if ctype:
            out.append(("CONTENT-TYPE: %s" % ctype).encode("latin-1") + eol)
        for name, value in sorted(headers.items()):
            if name.lower() in ("content-type", "content-length"):
                continue
            out.append(("%s: %s" % (name, value)).encode("latin-1") + eol)
        out.append(eol)
        out.append(body + eol)
    out.append(b"--" + boundary.encode("ascii") + b"--" + eol)
    value = '"%s"' % boundary if quote_boundary else boundary
    return "multipart/mixed; boundary=%s" % value, b"".join(out)
