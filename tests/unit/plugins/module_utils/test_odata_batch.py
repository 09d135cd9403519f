# -*- coding: utf-8 -*-
"""The OData v3 $batch format SharePoint reads and writes (plugins/module_utils/_odata_batch.py): building the
request, reading answers with CRLF or bare LF lines, quoted boundaries, parts that are not 200, and parts
that are not HTTP responses at all.  The answers below follow what SharePoint Online sends (a
``batchresponse_`` boundary, ``CONTENT-TYPE`` in capitals inside the parts, CRLF line ends)."""

from __future__ import absolute_import, division, print_function

import json

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _odata_batch as ob

BOUNDARY = "batchresponse_2c2c5b0e-8a8c-4b8e-9d29-7c7e6a0e8f11"
PROFILE = {"d": {"AccountName": "i:0#.w|EXAMPLE\\alice", "PictureUrl": None,
                 "UserProfileProperties": {"results": [{"Key": "PictureURL", "Value": "https://my/a_MThumb.jpg"}]}}}
NOT_FOUND = {"error": {"code": "-2146232832, Microsoft.Office.Server.UserProfiles.UserNotFoundException",
                       "message": {"lang": "en-US", "value": "User Profile Error 1000: User Not Found"}}}


def answer(parts, eol="\r\n", boundary=BOUNDARY, close=True, preamble="", epilogue=""):
    """A batch answer body from (status line, [headers], body) triples, written with ``eol`` line ends."""
    out = preamble
    for status, headers, body in parts:
        out += "--%s%s" % (boundary, eol)
        out += "Content-Type: application/http%sContent-Transfer-Encoding: binary%s%s" % (eol, eol, eol)
        out += status + eol
        for header in headers:
            out += header + eol
        out += eol + body + eol
    if close:
        out += "--%s--%s" % (boundary, eol)
    return (out + epilogue).encode("utf-8")


def three(eol="\r\n"):
    return answer([
        ("HTTP/1.1 200 OK", ["CONTENT-TYPE: application/json;odata=verbose;charset=utf-8"], json.dumps(PROFILE)),
        ("HTTP/1.1 404 Not Found", ["CONTENT-TYPE: application/json;odata=verbose;charset=utf-8"],
         json.dumps(NOT_FOUND)),
        ("HTTP/1.1 503 Service Unavailable", ["Retry-After: 7", "content-type: application/json"], '{"error": {}}'),
    ], eol=eol)


# --- the request ---------------------------------------------------------------------------------------

def test_build_batch_is_multipart_with_one_get_per_url():
    urls = ["https://sp.example.test/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)"
            "?@v='i%3A0%23.w%7CEXAMPLE%5Calice'", "https://sp.example.test/_api/web"]
    ctype, body = ob.build_batch(urls, {"Accept": "application/json;odata=verbose"}, boundary="batch_fixed")
    assert ctype == "multipart/mixed; boundary=batch_fixed"
    text = body.decode("utf-8")
    assert text.startswith("--batch_fixed\r\n") and text.endswith("--batch_fixed--\r\n")
    assert text.count("--batch_fixed\r\n") == 2
    assert text.count("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n") == 2
    assert "GET %s HTTP/1.1\r\nAccept: application/json;odata=verbose\r\n\r\n" % urls[0] in text
    assert "\n" not in text.replace("\r\n", "")  # every line ends in CRLF


def test_build_batch_boundaries_differ_and_refuse_urls_that_break_lines():
    assert ob.build_batch(["https://a/x"])[0] != ob.build_batch(["https://a/x"])[0]
    assert ob.build_batch(["https://a/x"])[0].split("boundary=")[1].startswith("batch_")
    for bad in ("https://a/x\r\nX-Evil: 1", "https://a/x y", ""):
        with pytest.raises(ValueError):
            ob.build_batch([bad])


def test_a_built_request_reads_back_as_parts():
    """The request format is the answer format with request lines: the same splitting applies."""
    ctype, body = ob.build_batch(["https://a/1", "https://a/2"], {"Accept": "x"})
    # Swap the request lines for status lines and the result parses as two answered parts.
    body = body.replace(b"GET https://a/1 HTTP/1.1", b"HTTP/1.1 200 OK")
    body = body.replace(b"GET https://a/2 HTTP/1.1", b"HTTP/1.1 204 No Content")
    parts = ob.parse_batch(ctype, body)
    assert [p.status for p in parts] == [200, 204] and parts[0].headers.get("accept") == "x"


# --- the answer -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("eol", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_parse_parts_in_order_with_status_headers_and_body(eol):
    parts = ob.parse_batch("multipart/mixed; boundary=%s" % BOUNDARY, three(eol))
    assert [p.status for p in parts] == [200, 404, 503]
    assert json.loads(parts[0].body.decode("utf-8")) == PROFILE
    assert parts[0].headers.get("Content-Type").startswith("application/json;odata=verbose")  # CONTENT-TYPE
    assert json.loads(parts[1].body.decode("utf-8")) == NOT_FOUND
    assert parts[2].headers.get("retry-after") == "7" and parts[2].body == b'{"error": {}}'


def test_parse_mixed_line_ends_in_one_answer():
    crlf = three("\r\n")
    mixed = crlf.replace(b"Content-Transfer-Encoding: binary\r\n", b"Content-Transfer-Encoding: binary\n", 1)
    assert [p.status for p in ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, mixed)] == [200, 404, 503]


@pytest.mark.parametrize("ctype", [
    'multipart/mixed; boundary="%s"' % BOUNDARY,
    'Multipart/Mixed;boundary="%s"; charset=utf-8' % BOUNDARY,
    "multipart/mixed; charset=utf-8; BOUNDARY=%s" % BOUNDARY,
], ids=["quoted", "quoted-no-space-and-case", "unquoted-after-another-parameter"])
def test_boundary_quoted_or_not_and_in_any_case(ctype):
    assert len(ob.parse_batch(ctype, three())) == 3


def test_quoted_boundary_with_characters_a_token_cannot_hold():
    boundary = "batch response:1=2"
    body = answer([("HTTP/1.1 200 OK", [], "{}")], boundary=boundary)
    parts = ob.parse_batch('multipart/mixed; boundary="batch response:1=2"', body)
    assert parts[0].status == 200 and parts[0].body == b"{}"


def test_preamble_and_epilogue_are_ignored():
    body = answer([("HTTP/1.1 200 OK", [], "{}")], preamble="This is a preamble.\r\n",
                  epilogue="and an epilogue\r\n--%s\r\nnot a part\r\n" % BOUNDARY)
    parts = ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, body)
    assert len(parts) == 1 and parts[0].status == 200


def test_a_boundary_lookalike_inside_a_body_does_not_split_it():
    text = "{\"x\":\r\n--%sX is not a delimiter, nor is --%s- \"}" % (BOUNDARY, BOUNDARY)
    parts = ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, answer([("HTTP/1.1 200 OK", [], text)]))
    assert len(parts) == 1 and parts[0].body == text.encode("utf-8")


def test_content_length_inside_a_part_is_honoured():
    body = answer([("HTTP/1.1 200 OK", ["Content-Length: 2"], "{}   ")])
    assert ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, body)[0].body == b"{}"
    short = answer([("HTTP/1.1 200 OK", ["Content-Length: 20"], "{}")])
    part = ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, short)[0]
    assert isinstance(part, ob.MalformedPart) and "Content-Length" in part.reason


def test_a_part_without_mime_headers_and_an_empty_body():
    body = ("--%s\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--%s--\r\n" % (BOUNDARY, BOUNDARY)).encode("ascii")
    part = ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, body)[0]
    assert part.status == 204 and part.body == b""


@pytest.mark.parametrize("status_line, reason", [
    ("this is not an HTTP response", "status line"),
    ("HTTP/1.1 OK", "status line"),
    ("HTTP/1.1 2000 OK", "status line"),
    ("", "status line"),
])
def test_a_part_that_is_not_an_http_response_is_malformed_and_the_others_are_kept(status_line, reason):
    body = answer([("HTTP/1.1 200 OK", [], "{}"), (status_line, [], "garbage"), ("HTTP/1.1 200 OK", [], "[]")])
    parts = ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, body)
    assert parts[0].status == 200 and parts[2].status == 200 and parts[2].body == b"[]"
    assert isinstance(parts[1], ob.MalformedPart) and reason in parts[1].reason


def test_a_part_of_another_type_or_encoding_is_malformed():
    other = ("--%s\r\nContent-Type: text/plain\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{}\r\n--%s--\r\n" % (BOUNDARY, BOUNDARY))
    part = ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, other.encode("ascii"))[0]
    assert isinstance(part, ob.MalformedPart) and "text/plain" in part.reason
    b64 = other.replace("Content-Type: text/plain", "Content-Type: application/http\r\nContent-Transfer-Encoding: base64")
    part = ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, b64.encode("ascii"))[0]
    assert isinstance(part, ob.MalformedPart) and "base64" in part.reason


def test_an_answer_cut_before_its_close_delimiter_marks_the_last_part():
    body = answer([("HTTP/1.1 200 OK", [], "{}"), ("HTTP/1.1 200 OK", [], '{"d": ')], close=False)
    parts = ob.parse_batch("multipart/mixed; boundary=" + BOUNDARY, body)
    assert parts[0].status == 200 and isinstance(parts[1], ob.MalformedPart)


@pytest.mark.parametrize("ctype, body, needle", [
    ("application/json;odata=verbose", b'{"d": {}}', "not multipart/mixed"),
    ("text/html", b"<html>Sign in</html>", "not multipart/mixed"),
    (None, b"", "untyped"),
    ("multipart/mixed", b"--x\r\n", "no boundary"),
    ("multipart/mixed; boundary=other", three(), "does not occur"),
    ("multipart/mixed; boundary=" + BOUNDARY, ("--%s--\r\n" % BOUNDARY).encode("ascii"), "no part"),
])
def test_answers_that_are_not_batch_answers(ctype, body, needle):
    with pytest.raises(ob.BatchFormatError) as err:
        ob.parse_batch(ctype, body)
    assert needle in str(err.value)


def test_headers_are_case_insensitive_and_folded_lines_are_joined():
    part = ob.parse_http_part(b"Content-Type: application/http\r\n\r\nHTTP/1.1 429 Too Many Requests\r\n"
                              b"retry-AFTER: 3\r\nX-Long: a\r\n b\r\n\r\nbody")
    assert part.status == 429 and part.headers.get("Retry-After") == "3" and part.headers.get("x-long") == "a b"
    assert part.body == b"body"
