# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OData v3 ``$batch`` format that SharePoint (Online, and Server 2016 and later) reads and writes.

Pure functions, no network, so they are unit-tested on their own:

* ``build_batch(urls, headers)`` -> ``(content_type, body)``: one ``multipart/mixed`` request whose
  parts are ``application/http`` GETs of absolute URLs (``POST {site}/_api/$batch``);
* ``parse_batch(content_type, body)`` -> the parts of the answer, in order, each a ``BatchPart``
  (status, headers, body) or a ``MalformedPart`` saying what is wrong with it.

The answer is ``multipart/mixed`` with its own boundary (``batchresponse_...``) in its Content-Type,
parts in the order of the requests, each an ``application/http`` part holding a whole HTTP response
(status line, headers, blank line, body).  Parts are independent: one failing does not fail the others.
Lines may end in CRLF (what SharePoint sends) or a bare LF (what some proxies and clients write);
the boundary may be quoted.  See Microsoft's "Make batch requests with the REST APIs" and the OData v3
batch processing rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import uuid
from collections import namedtuple

# One part of a batch answer: status (int), headers (case-insensitive, ``get(name)``), body (bytes).
BatchPart = namedtuple("BatchPart", ["status", "headers", "body"])


class MalformedPart(object):
    """A part of a batch answer that is not an HTTP response; ``reason`` says why."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return "MalformedPart(%r)" % (self.reason,)


class BatchFormatError(ValueError):
    """The answer as a whole is not a multipart batch answer (wrong type, no boundary, no parts)."""


class Headers(object):
    """HTTP headers looked up without regard to case (the last value of a repeated name wins)."""

    def __init__(self, pairs=()):
        self._items = {}
        for name, value in pairs:
            self._items[name.strip().lower()] = value.strip()

    def get(self, name, default=None):
        return self._items.get(name.lower(), default)

    def __contains__(self, name):
        return name.lower() in self._items

    def items(self):
        return self._items.items()


CRLF = b"\r\n"


def new_boundary():
    return "batch_%s" % uuid.uuid4()


def build_batch(urls, headers=None, boundary=None):
    """``(content_type, body bytes)`` of a ``$batch`` request holding one GET per absolute URL.

    ``headers`` (a dict, for example ``{"Accept": "application/json;odata=verbose"}``) go into every
    part.  Lines end in CRLF; each part is ``Content-Type: application/http`` and
    ``Content-Transfer-Encoding: binary``, then the request line and its headers."""
    boundary = boundary or new_boundary()
    delimiter = ("--%s" % boundary).encode("ascii")
    out = []
    for url in urls:
        if any(ch in url for ch in "\r\n ") or not url:
            raise ValueError("a batch URL must be non-empty and hold no spaces or line breaks: %r" % (url,))
        out.append(delimiter + CRLF)
        out.append(b"Content-Type: application/http" + CRLF)
        out.append(b"Content-Transfer-Encoding: binary" + CRLF + CRLF)
        out.append(("GET %s HTTP/1.1" % url).encode("utf-8") + CRLF)
        for name, value in sorted((headers or {}).items()):
            out.append(("%s: %s" % (name, value)).encode("latin-1") + CRLF)
        out.append(CRLF)
    out.append(delimiter + b"--" + CRLF)
    return "multipart/mixed; boundary=%s" % boundary, b"".join(out)


_PARAM_RE = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')


def content_type_params(content_type):
    """``(media type in lower case, {parameter: value})``; quoted values are unquoted."""
    text = content_type or ""
    media = text.split(";", 1)[0].strip().lower()
    params = {}
    for name, value in _PARAM_RE.findall(text):
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[name.lower()] = value
    return media, params


def _split_head(data):
    """``(head lines, rest)``: the header block up to the first empty line (CRLF or LF) and what follows.
    No empty line: the whole is the head and the rest is None."""
    m = re.search(rb"\r?\n\r?\n", data)
    if m is None:
        return data, None
    return data[:m.start()], data[m.end():]


def _header_lines(block):
    """Header fields of a block (``Name: value`` lines, CRLF or LF; folded lines joined)."""
    pairs = []
    for raw in re.split(rb"\r?\n", block):
        if not raw.strip():
            continue
        line = raw.decode("latin-1")
        if line[:1] in (" ", "\t") and pairs:
            pairs[-1] = (pairs[-1][0], pairs[-1][1] + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise ValueError("%r is not a header line" % line[:80])
        pairs.append((name, value))
    return pairs


_STATUS_RE = re.compile(r"^HTTP/\d(?:\.\d)? +(\d{3})(?: +.*)?$")


def parse_http_part(data):
    """A ``BatchPart`` from one part of a batch answer (its MIME headers, a blank line, then the HTTP
    response), or a ``MalformedPart``."""
    if data.startswith(CRLF):
        mime_head, message = b"", data[2:]
    elif data.startswith(b"\n"):
        mime_head, message = b"", data[1:]
    else:
        mime_head, message = _split_head(data)
    if message is None:
        return MalformedPart("the part has no HTTP response after its MIME headers")
    try:
        mime = Headers(_header_lines(mime_head))
    except ValueError as exc:
        return MalformedPart("bad MIME header: %s" % exc)
    media, dummy = content_type_params(mime.get("Content-Type"))
    if media and media != "application/http":
        return MalformedPart("the part is %s, not application/http" % media)
    encoding = (mime.get("Content-Transfer-Encoding") or "binary").lower()
    if encoding not in ("binary", "8bit", "7bit"):
        return MalformedPart("Content-Transfer-Encoding %s is not supported" % encoding)
    message = message.lstrip(b"\r\n")
    head, body = _split_head(message)
    lines = re.split(rb"\r?\n", head, maxsplit=1)
    status_line = lines[0].decode("latin-1").strip()
    m = _STATUS_RE.match(status_line)
    if m is None:
        return MalformedPart("%r is not an HTTP status line" % status_line[:80])
    try:
        headers = Headers(_header_lines(lines[1] if len(lines) > 1 else b""))
    except ValueError as exc:
        return MalformedPart("bad HTTP header: %s" % exc)
    body = body or b""
    length = headers.get("Content-Length")
    if length is not None and length.isdigit():
        if len(body) < int(length):
            return MalformedPart("the body has %d of the %s bytes its Content-Length announces" % (len(body), length))
        body = body[:int(length)]
    return BatchPart(int(m.group(1)), headers, body)


def parse_batch(content_type, body):
    """The parts of a batch answer, in order: each a ``BatchPart`` or a ``MalformedPart``.

    Raises ``BatchFormatError`` when the answer is not ``multipart/mixed`` with a boundary, or holds
    no part at all."""
    media, params = content_type_params(content_type)
    if media != "multipart/mixed":
        raise BatchFormatError("the answer is %s, not multipart/mixed" % (media or "untyped"))
    boundary = params.get("boundary")
    if not boundary:
        raise BatchFormatError("the multipart answer names no boundary")
    if len(boundary) > 200:
        raise BatchFormatError("the boundary is longer than 200 characters")
    data = body or b""
    # A delimiter line: "--boundary" at the start of the body or of a line, "--" after it for the last
    # one, then optional blanks and the line end.  The line break before it belongs to the delimiter.
    pattern = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary.encode("latin-1")) + rb"(--)?[ \t]*(?=\r?\n|$)")
    marks = list(pattern.finditer(data))
    if not marks:
        raise BatchFormatError("the boundary %s does not occur in the answer" % boundary)
    parts = []
    for here, after in zip(marks, marks[1:] + [None]):
        if here.group(1):  # the close delimiter: what follows is the epilogue
            break
        start = here.end()
        if data[start:start + 2] == CRLF:
            start += 2
        elif data[start:start + 1] == b"\n":
            start += 1
        end = after.start() if after is not None else len(data)
        if after is None:
            parts.append(MalformedPart("the answer ends before the last part is closed"))
            break
        parts.append(parse_http_part(data[start:end]))
    if not parts:
        raise BatchFormatError("the multipart answer holds no part")
    return parts
