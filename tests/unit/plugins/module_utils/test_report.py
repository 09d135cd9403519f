# -*- coding: utf-8 -*-
"""Drift reports (_report.py): each format, escaping of hostile directory values, merge, permissions, memory.

The HTML report in a real browser is checked in test_report_browser.py.
"""

from __future__ import absolute_import, division, print_function

import base64
import csv
import hashlib
import io
import json
import os
import re
import stat
import tracemalloc
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import junitparser
import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _report

import reportdata
from reportdata import HOSTILE_NAMES, people_by_status, write_report

ALL_STATUSES = list(_report.STATUSES)
# Every status at least once, several twice, and every hostile name on a not-in-sync person.
MIXED = ALL_STATUSES + ["update", "add", "error", "remove"] + ["update"] * (len(HOSTILE_NAMES) - 4) + ["in_sync"]
MIXED_NAMES = [None] * len(ALL_STATUSES) + HOSTILE_NAMES


def expected_counts(people):
    counts = dict((s, 0) for s in ALL_STATUSES)
    for record, _current, _desired in people:
        counts[record["status"]] += 1
    return counts


@pytest.fixture
def mixed(tmp_path):
    people = people_by_status(MIXED, MIXED_NAMES)
    writer, paths = write_report(tmp_path / "reports", people,
                                 summary={"unmatched_source_keys": ["/srv/photos/ghost.jpg"]})
    return people, writer, paths


# ------------------------------------------------------------------------------------ JSON

def test_json_report_is_versioned_and_counts_equal_the_people(mixed):
    people, writer, paths = mixed
    report = json.load(open(paths["json"], encoding="utf-8"))
    assert report["schema"] == "photosync.ad/drift-report" and report["version"] == 1
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", report["generated_at"])
    assert report["run"] == reportdata.RUN_INFO
    counts = expected_counts(people)
    assert report["summary"]["counts"] == counts
    assert report["summary"]["total"] == len(people) == len(report["people"])
    assert report["summary"]["not_in_sync"] == len(people) - counts["in_sync"]
    assert report["summary"]["unmatched_source_keys"] == ["/srv/photos/ghost.jpg"]
    assert report["summary"]["changed"] is True  # check mode with adds and updates: it would change
    assert writer.summary == report["summary"]
    # every field of every person, in the documented order, and equal to what was added
    for got, (record, _c, _d) in zip(report["people"], people):
        assert list(got)[:len(_report.PERSON_FIELDS)] == list(_report.PERSON_FIELDS)
        assert got == record
    # hostile names come back exactly as given (JSON is escaped, not altered), NUL included
    assert [p["display_name"] for p in report["people"][len(ALL_STATUSES):-1]] == HOSTILE_NAMES


def test_json_photos_only_of_people_not_in_sync_deduplicated(tmp_path):
    shared = reportdata.portrait(7)
    people = people_by_status(["in_sync", "update", "add"])
    # two people get the same desired photo: stored once
    for record, _current, _desired in people[1:]:
        record["after"] = reportdata.photo_summary(shared)
    people = [people[0], (people[1][0], people[1][1], shared), (people[2][0], None, shared)]
    _writer, paths = write_report(tmp_path, people)
    report = json.load(open(paths["json"], encoding="utf-8"))
    in_sync_sha = people[0][0]["before"]["sha256"]
    assert in_sync_sha not in report["photos"]
    assert sorted(report["photos"]) == sorted({hashlib.sha256(shared).hexdigest(),
                                               people[1][0]["before"]["sha256"]})
    assert base64.b64decode(report["photos"][hashlib.sha256(shared).hexdigest()]) == shared
    assert report["include_photos"] is True


def test_json_without_photos_when_not_asked(tmp_path):
    _writer, paths = write_report(tmp_path, people_by_status(["update", "add"]), include_photos=False)
    report = json.load(open(paths["json"], encoding="utf-8"))
    assert report["photos"] == {} and report["include_photos"] is False
    html = open(paths["html"], encoding="utf-8").read()
    assert "data:image/" not in html and "not in report" in html


def test_empty_run_writes_valid_reports(tmp_path):
    _writer, paths = write_report(tmp_path, [])
    report = json.load(open(paths["json"], encoding="utf-8"))
    assert report["people"] == [] and report["photos"] == {} and report["summary"]["total"] == 0
    suite = ET.parse(paths["junit"]).getroot()
    assert suite.get("tests") == "0"
    assert "Nobody matches this filter" in open(paths["html"], encoding="utf-8").read()


def test_secret_looking_run_info_is_masked(tmp_path):
    sharepoint = {"client_secret": "abc-SECRET-123", "site": "https://sp.example.test"}
    run = dict(reportdata.RUN_INFO, password="S3cret-pw!", sharepoint=sharepoint)
    _writer, paths = write_report(tmp_path, people_by_status(["update"]), run_info=run)
    for path in paths.values():
        text = open(path, encoding="utf-8-sig").read()
        assert "S3cret-pw!" not in text and "abc-SECRET-123" not in text, path
    report = json.load(open(paths["json"], encoding="utf-8"))
    assert report["run"]["sharepoint"]["site"] == "https://sp.example.test"


# ------------------------------------------------------------------------------------ files

def test_files_are_0600_in_a_created_0700_folder_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        folder = tmp_path / "new" / "reports"
        _writer, paths = write_report(folder, people_by_status(["update", "in_sync"]))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(str(folder)).st_mode) == 0o700
    assert sorted(os.path.basename(p) for p in paths.values()) == sorted(_report.FILE_NAMES.values())
    for path in paths.values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert sorted(os.listdir(str(folder))) == sorted(_report.FILE_NAMES.values())  # no temp files left


def test_an_existing_folder_keeps_its_mode(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    os.chmod(str(folder), 0o750)
    _writer, paths = write_report(folder, people_by_status(["add"]), formats=["html"])
    assert stat.S_IMODE(os.stat(str(folder)).st_mode) == 0o750
    assert stat.S_IMODE(os.stat(paths["html"]).st_mode) == 0o600


def test_a_failing_run_leaves_the_previous_report_and_no_temp_files(tmp_path):
    _writer, paths = write_report(tmp_path, people_by_status(["update"]))
    before = dict((p, open(p, "rb").read()) for p in paths.values())
    with pytest.raises(RuntimeError):
        with _report.ReportWriter(str(tmp_path), _report.FORMATS, reportdata.RUN_INFO) as writer:
            record, current, desired = reportdata.make_person(5, "add")
            writer.add(record, current, desired)
            raise RuntimeError("the run died")
    assert sorted(os.listdir(str(tmp_path))) == sorted(_report.FILE_NAMES.values())
    for path, data in before.items():
        assert open(path, "rb").read() == data


def test_same_report_again_is_not_rewritten(tmp_path):
    people = people_by_status(["update", "add", "in_sync"])
    first, paths = write_report(tmp_path, people, generated_at="2026-12-01T10:00:00Z")
    inode = dict((f, os.stat(p).st_ino) for f, p in paths.items())
    again, _paths = write_report(tmp_path, people, generated_at="2026-12-01T10:00:00Z")
    assert first.changed is True and again.changed is False
    assert inode == dict((f, os.stat(p).st_ino) for f, p in paths.items())
    later, _paths = write_report(tmp_path, people, generated_at="2026-12-01T11:00:00Z")
    assert later.changed is True


@pytest.mark.parametrize("formats,message", [
    (["json", "pdf"], "unknown report format(s) pdf"),
    ([], "no report format chosen"),
])
def test_bad_formats_are_refused(tmp_path, formats, message):
    with pytest.raises(_errors.ConfigurationError, match=re.escape(message)):
        _report.ReportWriter(str(tmp_path), formats, {})


def test_unknown_status_is_refused(tmp_path):
    record, _c, _d = reportdata.make_person(1, "add")
    record["status"] = "maybe"
    with _report.ReportWriter(str(tmp_path), ["json"], {}) as writer:
        with pytest.raises(_errors.ReportError, match="unknown status 'maybe'"):
            writer.add(record)


def test_unwritable_folder_is_a_report_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(_errors.ReportError, match="cannot create the report folder"):
        _report.ReportWriter(str(blocker / "reports"), ["json"], {})


# ------------------------------------------------------------------------------------ HTML

class _Collect(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> and <style>."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.tags = []
        self.raw = {"script": [], "style": []}
        self._in = None
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in self.raw:
            self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.raw[self._in].append(data)
        else:
            self.text.append(data)


def _parse(path):
    parser = _Collect()
    parser.feed(open(path, encoding="utf-8").read())
    parser.close()
    return parser


def test_html_escapes_hostile_display_names(mixed):
    people, _writer, paths = mixed
    html = open(paths["html"], encoding="utf-8").read()
    parsed = _parse(paths["html"])
    tag_names = set(t for t, _a in parsed.tags)
    assert tag_names <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "div", "dl", "dt", "dd",
                         "main", "section", "p", "b", "label", "input", "span", "button", "select", "option",
                         "figure", "img", "figcaption", "br", "ul", "li", "bdi", "footer", "script"}, tag_names
    assert [t for t, _a in parsed.tags].count("script") == 1  # ours, nothing else
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/jpeg;base64,") and attrs["loading"] == "lazy"
    assert "<script>document" not in html and "<img src=x" not in html and "<b>closed early</b>" not in html
    assert "\x00" not in html and "\x1b" not in html
    # the names are shown as text, exactly (control characters replaced)
    text = "".join(parsed.text)
    for name in HOSTILE_NAMES:
        assert _report.clean_text(name) in text, name
    assert "&lt;script&gt;document.body.setAttribute(&#x27;data-pwned&#x27;" in html


def test_html_has_a_strict_csp_matching_its_only_style_and_script(mixed):
    _people, _writer, paths = mixed
    parsed = _parse(paths["html"])
    csp = [a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1
    policy = dict(part.strip().split(" ", 1) for part in csp[0].split(";"))
    assert policy["default-src"] == "'none'" and policy["img-src"] == "data:"
    assert "unsafe-inline" not in csp[0] and "http" not in csp[0]
    for kind, directive in (("script", "script-src"), ("style", "style-src")):
        body = "".join(parsed.raw[kind])
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        assert policy[directive] == "'sha256-%s'" % digest, kind
    assert not re.search(r"(src|href)=\"(https?:)?//", open(paths["html"], encoding="utf-8").read())


def test_html_rows_only_for_people_not_in_sync_with_both_photos(mixed):
    people, _writer, paths = mixed
    parsed = _parse(paths["html"])
    rows = [a for t, a in parsed.tags if t == "div" and "data-status" in a]
    wanted = [r for r, _c, _d in people if r["status"] != "in_sync"]
    assert [r["data-status"] for r in rows] == [r["status"] for r in wanted]
    imgs = [a["src"] for t, a in parsed.tags if t == "img"]
    expected = []
    for record, current, desired in people:
        if record["status"] != "in_sync":
            expected += [d for d in (current, desired) if d]
    assert [base64.b64decode(s.split(",", 1)[1]) for s in imgs] == expected
    counts = expected_counts(people)
    for status in ALL_STATUSES:
        cell = [a for t, a in parsed.tags if a.get("id") == "count-" + status]
        assert cell and cell[0]["data-count"] == str(counts[status])


def test_html_never_inlines_bytes_that_are_not_a_known_image(tmp_path):
    record, _current, _desired = reportdata.make_person(1, "update")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    _writer, paths = write_report(tmp_path, [(record, svg, reportdata.portrait(2))], formats=["html"])
    html = open(paths["html"], encoding="utf-8").read()
    assert html.count("data:image/") == 1 and "svg" not in html and "not shown" in html


# ------------------------------------------------------------------------------------ JUnit

def test_junit_parses_and_counts_match_the_json(mixed):
    people, _writer, paths = mixed
    counts = expected_counts(people)
    report = json.load(open(paths["json"], encoding="utf-8"))
    root = ET.parse(paths["junit"]).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) == report["summary"]["total"]
    assert int(suite.get("errors")) == counts["error"]
    assert int(suite.get("failures")) == report["summary"]["not_in_sync"] - counts["error"]
    for case, (record, _c, _d) in zip(cases, people):
        failure, error = case.find("failure"), case.find("error")
        if record["status"] == "in_sync":
            assert failure is None and error is None
        elif record["status"] == "error":
            assert error is not None and failure is None and error.get("type") == "error"
            assert record["error"] in error.text
        else:
            assert failure is not None and failure.get("type") == record["status"]
            assert failure.get("message").startswith(record["status"] + ": " + record["reasons"][0])
        assert case.get("name").startswith(record["user"])
        if record["display_name"] in HOSTILE_NAMES:
            # the name survives the round trip exactly (characters XML forbids replaced)
            assert case.get("name") == "%s (%s)" % (record["user"], _report.clean_text(record["display_name"]))


def test_junit_reads_with_junitparser(mixed):
    people, _writer, paths = mixed
    counts = expected_counts(people)
    xml = junitparser.JUnitXml.fromfile(paths["junit"])
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    assert suite.tests == len(people) and suite.errors == counts["error"]
    kinds = {"pass": 0, "failure": 0, "error": 0}
    for case in suite:
        results = case.result
        if not results:
            kinds["pass"] += 1
        elif isinstance(results[0], junitparser.Error):
            kinds["error"] += 1
        else:
            assert isinstance(results[0], junitparser.Failure)
            kinds["failure"] += 1
    assert kinds == {"pass": counts["in_sync"], "error": counts["error"],
                     "failure": len(people) - counts["in_sync"] - counts["error"]}
    props = dict((p.name, p.value) for p in suite.properties())
    assert props["count.update"] == str(counts["update"]) and props["run.check_mode"] == "true"


# ------------------------------------------------------------------------------------ CSV

def test_csv_one_row_per_person_and_no_formula_injection(mixed):
    people, _writer, paths = mixed
    raw = open(paths["csv"], "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: spreadsheets then read unicode right
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == _report.CSV_COLUMNS
    assert len(rows) - 1 == len(people)
    col = dict((name, i) for i, name in enumerate(rows[0]))
    for row, (record, _c, _d) in zip(rows[1:], people):
        assert row[col["status"]] == record["status"]
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        name = _report.clean_text(record["display_name"])
        if name.startswith(("=", "+", "-", "@")):
            assert row[col["display_name"]] == "'" + name
        else:
            assert row[col["display_name"]] == name
        if record["after"]:
            assert row[col["after_sha256"]] == record["after"]["sha256"]
            assert row[col["after_bytes"]] == str(record["after"]["bytes"])
    statuses = [row[col["status"]] for row in rows[1:]]
    assert dict((s, statuses.count(s)) for s in ALL_STATUSES) == expected_counts(people)


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\t=x", "'\t=x"), ("a=b", "a=b"),
    (5, "5"), (True, "true"), (None, ""), ("Zoë", "Zoë"),
])
def test_csv_cell(value, expected):
    assert _report.csv_cell(value) == expected


# ------------------------------------------------------------------------------------ merge

def test_merge_sums_counts_and_concatenates_people(tmp_path):
    staff = people_by_status(["in_sync", "add", "update", "error"], start=0)
    students = people_by_status(["update", "remove", "in_sync", "conflict", "add"], start=100)
    w1, p1 = write_report(tmp_path / "staff", staff, run_info=dict(reportdata.RUN_INFO, scope="OU=Staff"),
                          summary={"unmatched_source_keys": ["ghost.jpg", "s1.jpg"], "ambiguous_source_keys": ["a"]},
                          generated_at="2026-12-01T10:00:00Z")
    w2, p2 = write_report(tmp_path / "students", students,
                          run_info=dict(reportdata.RUN_INFO, scope="OU=Students", check_mode=False),
                          summary={"unmatched_source_keys": ["ghost.jpg", "a0.jpg"], "ambiguous_source_keys": ["b"]},
                          generated_at="2026-12-01T10:05:00Z")
    merged = _report.merge_reports([p1["json"], p2["json"]], str(tmp_path / "all"), _report.FORMATS)
    counts = dict((s, w1.counts[s] + w2.counts[s]) for s in ALL_STATUSES)
    assert merged["counts"] == counts and merged["total"] == 9 and merged["not_in_sync"] == 7
    # each run sees only its people: a key is unmatched only if unmatched in every run of that source
    assert merged["unmatched_source_keys"] == ["ghost.jpg"]
    assert merged["ambiguous_source_keys"] == ["a", "b"]
    assert merged["duplicates"] == 0 and merged["report_changed"] is True
    report = json.load(open(merged["reports"]["json"], encoding="utf-8"))
    assert report["summary"]["counts"] == counts
    assert [p["user"] for p in report["people"]] == [r["user"] for r, _c, _d in staff + students]
    assert report["generated_at"] == "2026-12-01T10:05:00Z"
    assert [m["scope"] for m in report["run"]["merged_from"]] == ["OU=Staff", "OU=Students"]
    # the merged header names every part's scope, readably (it showed the first part's and raw JSON)
    assert report["run"]["scope"] == ["OU=Staff", "OU=Students"]
    assert report["run"]["source"] == [reportdata.RUN_INFO["source"]]
    head = open(merged["reports"]["html"], encoding="utf-8").read().split("<table", 1)[0]
    assert "OU=Staff; OU=Students" in head and "{&quot;" not in head and '{"' not in head
    # the photos travel with the people: the merged HTML shows the same pictures
    html = _parse(merged["reports"]["html"])
    imgs = [base64.b64decode(a["src"].split(",", 1)[1]) for t, a in html.tags if t == "img"]
    expected = [d for r, c, dd in staff + students if r["status"] != "in_sync" for d in (c, dd) if d]
    assert imgs == expected
    suite = ET.parse(merged["reports"]["junit"]).getroot().find("testsuite")
    assert int(suite.get("tests")) == 9 and int(suite.get("errors")) == 1
    # merging the same inputs again changes nothing on disk
    again = _report.merge_reports([p1["json"], p2["json"]], str(tmp_path / "all"), _report.FORMATS)
    assert again["report_changed"] is False


def test_merge_keeps_a_person_found_twice_once(tmp_path):
    people = people_by_status(["add", "update"])
    _w, p1 = write_report(tmp_path / "a", people)
    _w, p2 = write_report(tmp_path / "b", people[1:] + people_by_status(["remove"], start=50))
    merged = _report.merge_reports([p1["json"], p2["json"]], str(tmp_path / "all"), ["json"])
    assert merged["total"] == 3 and merged["duplicates"] == 1
    assert merged["counts"]["update"] == 1


def test_rerender_one_report_in_other_formats(tmp_path):
    people = people_by_status(["add", "in_sync", "error"], names=[HOSTILE_NAMES[0]])
    _w, paths = write_report(tmp_path / "ci", people, formats=["json"])
    result = _report.render_reports([paths["json"]], str(tmp_path / "view"), ["html", "csv"])
    assert sorted(result["reports"]) == ["csv", "html"]
    assert "merged_from" not in json.load(open(paths["json"], encoding="utf-8"))["run"]
    assert "&lt;script&gt;" in open(result["reports"]["html"], encoding="utf-8").read()


def test_render_in_check_mode_writes_nothing(tmp_path):
    _w, paths = write_report(tmp_path / "ci", people_by_status(["add"]), formats=["json"])
    dest = tmp_path / "view"
    result = _report.render_reports([paths["json"]], str(dest), ["html"], check_mode=True)
    assert result["report_changed"] is True and not dest.exists()
    assert result["reports"]["html"] == str(dest / "photosync-report.html")
    _report.render_reports([paths["json"]], str(dest), ["html"])
    assert _report.render_reports([paths["json"]], str(dest), ["html"], check_mode=True)["report_changed"] is False


@pytest.mark.parametrize("content,message", [
    ("not json", "is not a JSON report"),
    ('{"schema": "other", "version": 1, "people": []}', "is not a photosync.ad drift report"),
    ('{"schema": "photosync.ad/drift-report", "version": 2, "people": []}', "reads version 1"),
    ('{"schema": "photosync.ad/drift-report", "version": 1}', "has no list of people"),
    ('{"schema": "photosync.ad/drift-report", "version": 1, "people": [{"status": "odd"}]}', "unknown status"),
])
def test_merge_refuses_what_is_not_a_report(tmp_path, content, message):
    path = tmp_path / "in.json"
    path.write_text(content)
    with pytest.raises(_errors.ReportError, match=re.escape(message)):
        _report.merge_reports([str(path)], str(tmp_path / "out"), ["json"])
    assert not (tmp_path / "out" / "photosync-report.json").exists()


# ------------------------------------------------------------------------------------ memory

def test_memory_stays_bounded_at_10000_people_with_photos(tmp_path):
    """10,000 people not in sync, each with two distinct photos: peak Python memory is a small fraction
    of the reports written (they are streamed to disk, not built in memory)."""
    bases = [reportdata.portrait(i) for i in range(16)]
    statuses = ["update", "add", "remove", "conflict", "error", "update", "no_source", "invalid_source"]
    template = [reportdata.make_person(i, s) for i, s in enumerate(statuses)]
    photos_each = sum((c is not None) + (d is not None) for _r, c, d in template)
    writer = _report.ReportWriter(str(tmp_path), _report.FORMATS, reportdata.RUN_INFO)
    tracemalloc.start()
    try:
        for i in range(10000):
            record, current, desired = template[i % len(template)]
            record = dict(record, user="user%05d" % i, display_name="Person %05d" % i)
            # distinct bytes per person (still JPEG to a browser: data after the end marker is ignored)
            current = bases[i % 16] + b"%06d" % i if current else None
            desired = bases[(i + 3) % 16] + b"%06dd" % i if desired else None
            writer.add(record, current, desired)
        paths = writer.finish()
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    written = sum(os.path.getsize(p) for p in paths.values())
    report = json.load(open(paths["json"], encoding="utf-8"))
    assert report["summary"]["total"] == 10000 and len(report["photos"]) == 10000 // len(template) * photos_each
    assert written > 60 * 1024 * 1024, written
    assert peak < 12 * 1024 * 1024, "peak %d bytes for %d bytes of reports" % (peak, written)
