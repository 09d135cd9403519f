# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift reports of a sync run: JSON for machines, JUnit for CI, CSV, one HTML file for people.

``ReportWriter`` takes one outcome record per person as the run goes and streams
each format to a temporary file next to its final name, so memory stays bounded
however many people are in scope (only counts and the set of photo hashes
already written are kept).  ``finish`` writes the summary at the top of each
file, copies the streamed body after it, and renames the result into place:
readers see the old report or the whole new one.  Reports hold photos and
names, so every file is created 0600 and a report folder we create is 0700.

``merge_reports`` reads the JSON reports of several runs (for example one per
OU) and writes one set of reports from them; with one input it re-renders the
other formats from a JSON report.

The JSON schema is ``photosync.ad/drift-report`` version 1, documented field
by field in docs/drift-reports.md.  Adding fields is compatible; renaming or
removing one, or changing its meaning, needs a new version.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import csv
import datetime
import errno
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr as _xml_quoteattr

from ansible_collections.photosync.ad.plugins.module_utils import _errors

SCHEMA = "photosync.ad/drift-report"
SCHEMA_VERSION = 1

STATUSES = ("in_sync", "add", "update", "remove", "no_source", "conflict", "invalid_source", "error")
NOT_IN_SYNC = STATUSES[1:]
FORMATS = ("json", "html", "junit", "csv")
FILE_NAMES = {
    "json": "photosync-report.json",
    "html": "photosync-report.html",
    "junit": "photosync-report.junit.xml",
    "csv": "photosync-report.csv",
}

# The record of one person, in this order (outcome.as_dict() of _reconcile).
PERSON_FIELDS = ("user", "dn", "display_name", "status", "reasons", "before", "after", "source",
                 "source_version", "backup_file", "written", "error", "hint")
PHOTO_FIELDS = ("sha256", "bytes", "width", "height", "format")

STATUS_TITLES = {
    "in_sync": "In sync",
    "add": "Add",
    "update": "Update",
    "remove": "Remove",
    "no_source": "No source",
    "conflict": "Conflict",
    "invalid_source": "Invalid source",
    "error": "Error",
}
STATUS_HELP = {
    "in_sync": "The directory already holds the desired photo.",
    "add": "The person has no photo; the source has one that will be (or was) written.",
    "update": "The photo differs from the source's; it will be (or was) replaced.",
    "remove": "The source has no photo and missing_source is remove; the photo will be (or was) cleared.",
    "no_source": "The source has no photo for this person; the directory value was left alone.",
    "conflict": "Someone else changed the photo between our read and our write; nothing was written.",
    "invalid_source": "The source's file is not a usable image; nothing was written.",
    "error": "The person could not be processed (source outage, permission, ...); nothing was written.",
}

_SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|private_?key|credential", re.IGNORECASE)
_SECRET_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# Characters that XML 1.0 forbids (and HTML treats as parse errors): replaced, never passed on.
_BAD_XML_CHARS = re.compile(u"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = ("user", "display_name", "dn", "status", "reasons", "error", "hint", "source", "source_version",
               "before_sha256", "before_bytes", "before_width", "before_height", "before_format",
               "after_sha256", "after_bytes", "after_width", "after_height", "after_format",
               "backup_file", "written")

_COPY_CHUNK = 1024 * 1024


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clean_text(value):
    """Text safe to put in XML/HTML: no control characters, no lone surrogates."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    return _BAD_XML_CHARS.sub(u"\ufffd", value)


def scrub_secrets(value):
    """A copy of run info with the values of secret-looking keys masked (defence in depth)."""
    if isinstance(value, dict):
        return dict((k, _SECRET_MASK if _SECRET_KEY.search(str(k)) and v not in (None, "") else scrub_secrets(v))
                    for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [scrub_secrets(v) for v in value]
    return value


def _photo_summary(value):
    if not value:
        return None
    if not isinstance(value, dict):
        raise _errors.ReportError("a photo summary must be a dict or null, not %r" % type(value).__name__)
    out = dict((k, value.get(k)) for k in PHOTO_FIELDS)
    out.update((k, v) for k, v in sorted(value.items()) if k not in out)
    return out


def normalize_person(record):
    """The documented fields in a fixed order (then any others, sorted); refuses unknown statuses."""
    if not isinstance(record, dict):
        raise _errors.ReportError("a report record must be a dict, not %r" % type(record).__name__)
    status = record.get("status")
    if status not in STATUSES:
        raise _errors.ReportError("unknown status %r for %s" % (status, record.get("user") or record.get("dn")),
                                  user=record.get("user"))
    out = dict((k, record.get(k)) for k in PERSON_FIELDS)
    out["reasons"] = [str(r) for r in (record.get("reasons") or [])]
    out["before"] = _photo_summary(record.get("before"))
    out["after"] = _photo_summary(record.get("after"))
    out["written"] = bool(record.get("written"))
    out.update((k, v) for k, v in sorted(record.items()) if k not in out)
    return out


def sniff_image_type(data):
    """The MIME type a browser may show for ``data``, or None (never SVG or anything scriptable)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM":
        return "image/bmp"
    return None


def _html(value):
    return clean_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace('"', "&quot;").replace("'", "&#x27;")


def _xml_attr(value):
    return _xml_quoteattr(clean_text(value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _xml_text(value):
    return _xml_escape(clean_text(value))


def csv_cell(value):
    """One CSV value; text that a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = clean_text(value)
    if text.startswith(_CSV_FORMULA_START):
        text = "'" + text
    return text


def _human_bytes(n):
    if n is None:
        return ""
    if n < 1024:
        return "%d B" % n
    return "%.1f KB" % (n / 1024.0)


class _TempFile:
    """A temporary file in the report folder (mkstemp: 0600), renamed onto its final name at the end."""

    def __init__(self, folder, suffix, binary=False):
        fd, self.path = tempfile.mkstemp(dir=folder, prefix=".photosync-report-", suffix=suffix + ".part")
        if binary:
            self.handle = os.fdopen(fd, "wb")
        else:
            self.handle = io.open(fd, "w", encoding="utf-8", newline="")

    def write(self, text):
        self.handle.write(text)

    def close(self):
        if not self.handle.closed:
            self.handle.close()

    def discard(self):
        self.close()
        try:
            os.unlink(self.path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise


def _same_content(a, b):
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
    except OSError:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            ca = fa.read(_COPY_CHUNK)
            cb = fb.read(_COPY_CHUNK)
            if ca != cb:
                return False
            if not ca:
                return True


def _install(tmp_path, final_path):
    """Rename ``tmp_path`` onto ``final_path`` unless both hold the same bytes; True when replaced."""
    if _same_content(tmp_path, final_path):
        os.unlink(tmp_path)
        os.chmod(final_path, 0o600)
        return False
    os.chmod(tmp_path, 0o600)
    with open(tmp_path, "rb") as handle:
        os.fsync(handle.fileno())
    os.rename(tmp_path, final_path)
    return True


def make_report_dir(path):
    """Create ``path`` owner-only (0700) if missing; an existing folder keeps its mode."""
    if os.path.isdir(path):
        return
    try:
        os.makedirs(path, 0o700)
        os.chmod(path, 0o700)
    except OSError as exc:
        if not os.path.isdir(path):
            raise _errors.ReportError("cannot create the report folder %s: %s" % (path, exc.strerror or exc),
                                      hint="Choose a report_dir the module's user may create or write")


class ReportWriter:
    """Write the drift report of one run, one person at a time.

    ``ReportWriter(report_dir, formats, run_info, include_photos=True)``, then
    ``add(outcome_dict, current_data=None, desired_data=None)`` for every person
    (in sync ones too: they count), then ``finish(summary) -> {format: path}``.
    Use it as a context manager, or call ``abort()``, so an exception leaves no
    temporary files behind.  ``changed`` says whether any report file's bytes
    changed (a report equal to the one on disk is not rewritten).
    """

    def __init__(self, report_dir, formats, run_info, include_photos=True, generated_at=None):
        formats = list(formats or [])
        unknown = [f for f in formats if f not in FORMATS]
        if unknown:
            raise _errors.ConfigurationError("unknown report format(s) %s; choose from %s"
                                             % (", ".join(map(str, unknown)), ", ".join(FORMATS)))
        if not formats:
            raise _errors.ConfigurationError("no report format chosen; choose from %s" % ", ".join(FORMATS))
        self.report_dir = os.path.abspath(report_dir)
        self.formats = [f for f in FORMATS if f in formats]
        self.run_info = scrub_secrets(dict(run_info or {}))
        self.include_photos = include_photos
        self.generated_at = generated_at or utc_now()
        self.counts = dict((s, 0) for s in STATUSES)
        self.total = 0
        self.written = 0
        self.changed = False
        self.paths = {}
        self._photos_seen = set()
        self._people = 0
        self._photo_entries = 0
        self._rows_html = 0
        self._files = {}
        self._finished = False
        make_report_dir(self.report_dir)
        try:
            if "json" in self.formats:
                self._files["json_people"] = _TempFile(self.report_dir, ".people")
                self._files["json_photos"] = _TempFile(self.report_dir, ".photos")
            if "html" in self.formats:
                self._files["html_rows"] = _TempFile(self.report_dir, ".rows")
            if "junit" in self.formats:
                self._files["junit_cases"] = _TempFile(self.report_dir, ".cases")
            if "csv" in self.formats:
                self._files["csv"] = _TempFile(self.report_dir, ".csv")
                self._csv = csv.writer(self._files["csv"].handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
                self._files["csv"].write(u"\ufeff")
                self._csv.writerow(CSV_COLUMNS)
        except OSError as exc:
            self.abort()
            raise _errors.ReportError("cannot write in the report folder %s: %s" % (self.report_dir, exc),
                                      hint="Choose a report_dir the module's user may write")

    # -- context manager -------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None or not self._finished:
            self.abort()
        return False

    def abort(self):
        """Remove the temporary files; the reports already on disk stay as they were."""
        for handle in self._files.values():
            handle.discard()
        self._files = {}
        self._finished = True

    # -- one person -------------------------------------------------------------------
    def add(self, outcome, current_data=None, desired_data=None):
        if self._finished:
            raise _errors.ReportError("the report is already finished")
        person = normalize_person(outcome)
        status = person["status"]
        self.counts[status] += 1
        self.total += 1
        if person["written"]:
            self.written += 1
        photos = {}
        if status != "in_sync" and self.include_photos:
            for key, data in (("before", current_data), ("after", desired_data)):
                if data:
                    photos[key] = (hashlib.sha256(data).hexdigest(), data)
        try:
            if "json" in self.formats:
                self._json_person(person, photos)
            if "html" in self.formats and status != "in_sync":
                self._html_row(person, photos)
            if "junit" in self.formats:
                self._junit_case(person)
            if "csv" in self.formats:
                self._csv.writerow([csv_cell(v) for v in self._csv_values(person)])
        except (TypeError, ValueError) as exc:
            raise _errors.ReportError("the record of %s cannot be written to the report: %s"
                                      % (person.get("user") or person.get("dn"), exc), user=person.get("user"))
        except OSError as exc:
            raise _errors.ReportError("cannot write the report in %s: %s" % (self.report_dir, exc))

    def _json_person(self, person, photos):
        text = json.dumps(person, ensure_ascii=True, sort_keys=False, allow_nan=False)
        self._files["json_people"].write((u",\n    " if self._people else u"\n    ") + text)
        self._people += 1
        for sha, data in photos.values():
            if sha in self._photos_seen:
                continue
            self._photos_seen.add(sha)
            self._files["json_photos"].write(u"%s\n    %s: \"" % ("," if self._photo_entries else "", json.dumps(sha)))
            self._files["json_photos"].write(base64.b64encode(data).decode("ascii") + u"\"")
            self._photo_entries += 1

    @staticmethod
    def _csv_values(person):
        values = [person["user"], person["display_name"], person["dn"], person["status"],
                  "; ".join(person["reasons"]), person["error"], person["hint"], person["source"],
                  person["source_version"]]
        for key in ("before", "after"):
            summary = person[key] or {}
            values.extend(summary.get(k) for k in PHOTO_FIELDS)
        values.extend([person["backup_file"], person["written"]])
        return values

    def _junit_case(self, person):
        name = person["user"] or person["dn"] or "?"
        if person["display_name"] and person["display_name"] != name:
            name = "%s (%s)" % (name, person["display_name"])
        classname = "photosync.ad.%s" % (self.run_info.get("attribute") or "thumbnailPhoto")
        out = [u'    <testcase classname=%s name=%s time="0"' % (_xml_attr(classname), _xml_attr(name))]
        status = person["status"]
        if status == "in_sync":
            out.append(u"/>\n")
        else:
            message = "%s: %s" % (status, "; ".join(person["reasons"]) or person["error"] or STATUS_HELP[status])
            details = ["status: %s" % status, "dn: %s" % (person["dn"] or ""),
                       "display name: %s" % (person["display_name"] or "")]
            details.extend("reason: %s" % r for r in person["reasons"])
            for key in ("error", "hint", "source", "source_version", "backup_file"):
                if person.get(key):
                    details.append("%s: %s" % (key.replace("_", " "), person[key]))
            for key in ("before", "after"):
                if person[key]:
                    s = person[key]
                    details.append("%s: %s %sx%s %s bytes sha256 %s" % (
                        "current" if key == "before" else "desired", s.get("format"), s.get("width"),
                        s.get("height"), s.get("bytes"), s.get("sha256")))
            details.append("written: %s" % ("yes" if person["written"] else "no"))
            tag = "error" if status == "error" else "failure"
            out.append(u">\n      <%s type=%s message=%s>%s</%s>\n    </testcase>\n" % (
                tag, _xml_attr(status), _xml_attr(message), _xml_text("\n".join(details)), tag))
        self._files["junit_cases"].write(u"".join(out))

    def _html_row(self, person, photos):
        self._files["html_rows"].write(render_html_row(person, photos, self._rows_html))
        self._rows_html += 1

    # -- the end --------------------------------------------------------------------------
    def build_summary(self, summary=None):
        """The report's summary: counts from the people added, other fields from the caller's ``summary``."""
        summary = dict(summary or {})
        not_in_sync = self.total - self.counts["in_sync"]
        changed = summary.get("changed")
        if changed is None:
            would_change = any(self.counts[s] for s in ("add", "update", "remove"))
            changed = self.written > 0 or (bool(self.run_info.get("check_mode")) and would_change)
        out = {
            "total": self.total,
            "counts": dict(self.counts),
            "not_in_sync": not_in_sync,
            "changed": bool(changed),
            "written": self.written,
            "unmatched_source_keys": [str(k) for k in summary.get("unmatched_source_keys") or []],
            "ambiguous_source_keys": [str(k) for k in summary.get("ambiguous_source_keys") or []],
        }
        for key, value in sorted(summary.items()):
            if key not in out and key not in ("counts", "total"):
                out[key] = value
        return out

    def finish(self, summary=None):
        """Write every chosen format; returns ``{format: path}``."""
        if self._finished:
            raise _errors.ReportError("the report is already finished")
        final = self.build_summary(summary)
        self.summary = final
        try:
            for fmt in self.formats:
                path = os.path.join(self.report_dir, FILE_NAMES[fmt])
                getattr(self, "_finish_" + fmt)(final, path)
                self.paths[fmt] = path
        except OSError as exc:
            self.abort()
            raise _errors.ReportError("cannot write the report in %s: %s" % (self.report_dir, exc),
                                      hint="Check the space and permissions of report_dir")
        self.abort()  # removes what is left of the temporary files
        return dict(self.paths)

    def _assemble(self, path, head, parts, tail):
        """Write head + the streamed parts (each: (separator_before, tempfile)) + tail, then install it."""
        out = _TempFile(self.report_dir, ".out", binary=True)
        try:
            out.write(head.encode("utf-8"))
            for prefix, part in parts:
                if prefix:
                    out.write(prefix.encode("utf-8"))
                part.close()
                with open(part.path, "rb") as src:
                    shutil.copyfileobj(src, out.handle, _COPY_CHUNK)
            out.write(tail.encode("utf-8"))
            out.handle.flush()
            out.close()
            if _install(out.path, path):
                self.changed = True
        except BaseException:
            out.discard()
            raise

    def _finish_json(self, summary, path):
        head = u'{\n  "schema": %s,\n  "version": %d,\n  "generated_at": %s,\n  "run": %s,\n  "summary": %s,\n' % (
            json.dumps(SCHEMA), SCHEMA_VERSION, json.dumps(self.generated_at),
            json.dumps(self.run_info, ensure_ascii=True, sort_keys=True, default=str),
            json.dumps(summary, ensure_ascii=True, sort_keys=False, default=str))
        head += u'  "include_photos": %s,\n  "people": [' % ("true" if self.include_photos else "false")
        self._assemble(path, head, [(None, self._files["json_people"]),
                                    (u'\n  ],\n  "photos": {', self._files["json_photos"])], u"\n  }\n}\n")

    def _finish_junit(self, summary, path):
        counts = summary["counts"]
        failures = summary["not_in_sync"] - counts["error"]
        props = u"".join(u'      <property name=%s value=%s/>\n' % (_xml_attr("run." + k), _xml_attr(
            json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list, bool)) else v))
            for k, v in sorted(self.run_info.items()))
        props += u"".join(u'      <property name=%s value="%d"/>\n' % (_xml_attr("count." + s), counts[s])
                          for s in STATUSES)
        attrs = u'tests="%d" failures="%d" errors="%d" skipped="0" time="0"' % (
            summary["total"], failures, counts["error"])
        head = (u'<?xml version="1.0" encoding="UTF-8"?>\n'
                u'<testsuites name="photosync.ad drift report" %s>\n'
                u'  <testsuite name=%s %s timestamp=%s>\n    <properties>\n%s    </properties>\n') % (
            attrs, _xml_attr("photosync.ad %s drift" % (self.run_info.get("attribute") or "thumbnailPhoto")),
            attrs, _xml_attr(self.generated_at.rstrip("Z")), props)
        self._assemble(path, head, [(None, self._files["junit_cases"])], u"  </testsuite>\n</testsuites>\n")

    def _finish_csv(self, summary, path):
        self._assemble(path, u"", [(None, self._files["csv"])], u"")

    def _finish_html(self, summary, path):
        head = render_html_head(self.run_info, summary, self.generated_at, self._rows_html, self.include_photos)
        self._assemble(path, head, [(None, self._files["html_rows"])], render_html_tail())


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

_CSS = u"""
:root{--fg:#1d2430;--muted:#5b6576;--line:#dfe3ea;--bg:#f5f7fa;--card:#fff;--accent:#2557a7;
--in_sync:#2e7d32;--add:#1565c0;--update:#6a3fb5;--remove:#ad5b00;--no_source:#5f6b7a;
--conflict:#b8860b;--invalid_source:#c2185b;--error:#c62828}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;
color:var(--fg);background:var(--bg)}
header{background:#1f2d44;color:#fff;padding:18px 28px 14px}
header h1{margin:0 0 4px;font-size:20px;font-weight:600}
header .sub{color:#c9d3e3;font-size:13px}
dl.run{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:4px 24px;margin:12px 0 0;
font-size:12.5px}
dl.run div{min-width:0}
dl.run dt{color:#9fb0c8;display:inline}
dl.run dd{margin:0 0 0 4px;display:inline;overflow-wrap:anywhere}
main{padding:18px 28px 40px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:16px}
.card{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--c,#999);border-radius:6px;
padding:8px 14px;min-width:118px}
.card .n{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card .l{font-size:12px;color:var(--muted)}
.card.total{--c:#1f2d44}
.card.zero{opacity:.55}
.toolbar{position:sticky;top:0;z-index:2;background:var(--bg);padding:10px 0;border-bottom:1px solid var(--line);
display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center}
.filters{display:flex;flex-wrap:wrap;gap:6px}
.filters label{display:inline-flex;align-items:center;gap:5px;background:var(--card);border:1px solid var(--line);
border-radius:16px;padding:3px 10px 3px 8px;cursor:pointer;user-select:none;font-size:13px}
.filters input{accent-color:var(--accent);margin:0}
.filters .dot{width:9px;height:9px;border-radius:50%;background:var(--c)}
input[type=search]{font:inherit;padding:5px 10px;border:1px solid #c5ccd8;border-radius:6px;min-width:320px}
select,button{font:inherit;padding:4px 8px;border:1px solid #c5ccd8;border-radius:6px;background:#fff}
button:disabled{opacity:.45}
.shown{color:var(--muted);font-size:13px;margin-left:auto}
#rows{display:flex;flex-direction:column;gap:8px;margin-top:12px}
.row{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--c);border-radius:6px;
padding:10px 14px;display:grid;grid-template-columns:minmax(220px,1.2fr) auto minmax(240px,1.5fr);gap:8px 22px;
align-items:start;content-visibility:auto;contain-intrinsic-size:auto 150px}
.row[hidden]{display:none}
.who .name{font-weight:600;font-size:15px;overflow-wrap:anywhere}
.who .user,.who .dn{color:var(--muted);font-size:12px;overflow-wrap:anywhere}
.photos{display:flex;align-items:center;gap:10px}
figure{margin:0;text-align:center;width:112px}
figure img,figure .none{width:96px;height:96px;object-fit:cover;border-radius:6px;border:1px solid var(--line);
background:#eef1f5;display:block;margin:0 auto}
figure .none{display:flex;align-items:center;justify-content:center;color:#8a94a6;font-size:12px;
border-style:dashed}
figcaption{font-size:11px;color:var(--muted);margin-top:3px;line-height:1.3}
figcaption b{color:var(--fg);font-weight:600;display:block}
.arrow{color:#8a94a6;font-size:20px}
.badge{display:inline-block;color:#fff;background:var(--c);border-radius:4px;padding:1px 8px;font-size:12px;
font-weight:600;letter-spacing:.02em}
.what ul{margin:6px 0 0;padding-left:18px}
.what .err{color:var(--error);margin-top:6px;overflow-wrap:anywhere}
.what .hint,.what .meta{color:var(--muted);font-size:12px;margin-top:4px;overflow-wrap:anywhere}
.written{font-size:11px;color:var(--in_sync);margin-left:6px}
.empty{padding:30px;text-align:center;color:var(--muted);background:var(--card);border:1px dashed var(--line);
border-radius:6px;margin-top:12px}
.pager{display:flex;gap:8px;align-items:center;justify-content:center;margin-top:14px}
footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
.s-in_sync{--c:var(--in_sync)}.s-add{--c:var(--add)}.s-update{--c:var(--update)}.s-remove{--c:var(--remove)}
.s-no_source{--c:var(--no_source)}.s-conflict{--c:var(--conflict)}.s-invalid_source{--c:var(--invalid_source)}
.s-error{--c:var(--error)}
@media (max-width:900px){.row{grid-template-columns:1fr}}
@media print{.toolbar,.pager{display:none}.row{break-inside:avoid;content-visibility:visible}}
"""

# The page's only script.  It reads everything from the DOM (no data is put into
# script text), so nothing from the directory can break out of it.  Work per
# filter change is one pass over the rows plus one page of them: O(n).
_JS = u"""
(function () {
  'use strict';
  var doc = document, body = doc.body;
  var list = doc.getElementById('rows');
  var rows = Array.prototype.slice.call(list.children);
  var n = rows.length, i;
  var statusOf = new Array(n), textOf = new Array(n);
  var perStatus = {};
  for (i = 0; i < n; i++) {
    statusOf[i] = rows[i].getAttribute('data-status');
    textOf[i] = rows[i].getAttribute('data-search') || '';
    perStatus[statusOf[i]] = (perStatus[statusOf[i]] || 0) + 1;
    rows[i].hidden = true;
  }
  body.setAttribute('data-row-counts', JSON.stringify(perStatus));
  var boxes = Array.prototype.slice.call(doc.querySelectorAll('input[name=status]'));
  var search = doc.getElementById('q');
  var sizeSel = doc.getElementById('pagesize');
  var shownEl = doc.getElementById('shown');
  var prev = doc.getElementById('prev'), next = doc.getElementById('next');
  var pageEl = doc.getElementById('page');
  var emptyEl = doc.getElementById('empty');
  var matched = [], visible = [], page = 0;

  function selected() {
    var sel = {};
    boxes.forEach(function (b) { if (b.checked) { sel[b.value] = true; } });
    return sel;
  }
  function pageSize() { var v = parseInt(sizeSel.value, 10); return v > 0 ? v : n || 1; }
  function fmt(x) { return x.toLocaleString('en-US'); }

  function filter() {
    var sel = selected(), needle = search.value.trim().toLowerCase();
    matched = [];
    for (var j = 0; j < n; j++) {
      if (sel[statusOf[j]] && (!needle || textOf[j].indexOf(needle) !== -1)) { matched.push(j); }
    }
  }
  function render() {
    var size = pageSize(), pages = Math.max(1, Math.ceil(matched.length / size));
    if (page >= pages) { page = pages - 1; }
    if (page < 0) { page = 0; }
    visible.forEach(function (j) { rows[j].hidden = true; });
    visible = matched.slice(page * size, page * size + size);
    visible.forEach(function (j) { rows[j].hidden = false; });
    var from = matched.length ? page * size + 1 : 0;
    shownEl.textContent = 'Showing ' + fmt(from) + '\\u2013' + fmt(page * size + visible.length) + ' of ' +
      fmt(matched.length) + ' matching (' + fmt(n) + ' not in sync)';
    pageEl.textContent = 'Page ' + fmt(page + 1) + ' of ' + fmt(pages);
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    emptyEl.hidden = matched.length !== 0;
    body.setAttribute('data-visible-rows', String(visible.length));
    body.setAttribute('data-matching-rows', String(matched.length));
    checkImages();
  }
  function writeHash() {
    var parts = [], sel = selected(), all = boxes.every(function (b) { return b.checked; });
    if (!all) { parts.push('status=' + boxes.filter(function (b) { return sel[b.value]; })
                                          .map(function (b) { return b.value; }).join(',')); }
    if (search.value.trim()) { parts.push('q=' + encodeURIComponent(search.value.trim())); }
    if (page) { parts.push('page=' + (page + 1)); }
    var h = parts.length ? '#' + parts.join('&') : ' ';
    try { history.replaceState(null, '', h === ' ' ? location.pathname + location.search : h); } catch (e) { }
  }
  function readHash() {
    var h = location.hash.replace(/^#/, ''), params = {};
    h.split('&').forEach(function (kv) {
      var k = kv.split('=')[0], v = kv.slice(k.length + 1);
      if (k) { try { params[k] = decodeURIComponent(v.replace(/\\+/g, ' ')); } catch (e) { params[k] = v; } }
    });
    if (params.status !== undefined) {
      var want = {};
      params.status.split(',').forEach(function (s) { want[s.trim()] = true; });
      boxes.forEach(function (b) { b.checked = !!want[b.value]; });
    } else {
      boxes.forEach(function (b) { b.checked = true; });
    }
    search.value = params.q || '';
    page = Math.max(0, (parseInt(params.page, 10) || 1) - 1);
  }

  var pendingCheck = 0;
  function checkImages() {
    if (pendingCheck) { return; }
    pendingCheck = setTimeout(function () {
      pendingCheck = 0;
      var total = 0, loaded = 0, broken = 0;
      visible.forEach(function (j) {
        var imgs = rows[j].getElementsByTagName('img');
        for (var k = 0; k < imgs.length; k++) {
          total++;
          if (imgs[k].complete) { if (imgs[k].naturalWidth > 0) { loaded++; } else { broken++; } }
        }
      });
      body.setAttribute('data-images-visible', String(total));
      body.setAttribute('data-images-loaded', String(loaded));
      body.setAttribute('data-images-broken', String(broken));
    }, 30);
  }
  list.addEventListener('load', checkImages, true);
  list.addEventListener('error', checkImages, true);
  window.addEventListener('load', checkImages);

  var timer = 0;
  function update(resetPage) {
    if (resetPage) { page = 0; }
    filter(); render(); writeHash();
  }
  boxes.forEach(function (b) { b.addEventListener('change', function () { update(true); }); });
  search.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () { update(true); }, 150);
  });
  sizeSel.addEventListener('change', function () { update(true); });
  prev.addEventListener('click', function () { page--; render(); writeHash(); window.scrollTo(0, 0); });
  next.addEventListener('click', function () { page++; render(); writeHash(); window.scrollTo(0, 0); });
  doc.getElementById('all').addEventListener('click', function () {
    boxes.forEach(function (b) { b.checked = true; }); update(true);
  });
  window.addEventListener('hashchange', function () { readHash(); filter(); render(); });
  readHash();
  filter();
  render();
  body.setAttribute('data-ready', '1');
})();
"""


def _csp_hash(text):
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


# No network, no frames, no forms, no plugins: only our own inline style and script (by hash) and
# data: images.  A display name cannot add a script, and the page cannot fetch anything.
CSP = ("default-src 'none'; img-src data:; style-src %s; script-src %s; base-uri 'none'; form-action 'none'"
       % (_csp_hash(_CSS), _csp_hash(_JS)))


def _figure(which, summary, photo, person_label):
    label = "Current" if which == "before" else "Desired"
    if not summary:
        return u'<figure><div class="none">no photo</div><figcaption><b>%s</b>none</figcaption></figure>' % label
    caption = u"%s\u00d7%s %s<br>%s" % (
        _html(summary.get("width") or "?"), _html(summary.get("height") or "?"),
        _html(summary.get("format") or ""), _html(_human_bytes(summary.get("bytes"))))
    mime = sniff_image_type(photo[1]) if photo else None
    if mime:
        img = (u'<img src="data:%s;base64,%s" alt="%s photo of %s" loading="lazy" decoding="async" '
               u'width="96" height="96">') % (
            mime, base64.b64encode(photo[1]).decode("ascii"), label.lower(), _html(person_label))
    else:
        why = "not shown" if photo else "not in report"
        img = u'<div class="none" title="sha256 %s">%s</div>' % (_html(summary.get("sha256")), why)
    return u"<figure>%s<figcaption><b>%s</b>%s</figcaption></figure>" % (img, label, caption)


def render_html_row(person, photos, index=0):
    """One person not in sync: who, current and desired photo side by side, status and why."""
    status = person["status"]
    name = person["display_name"] or person["user"] or person["dn"] or "?"
    search = u" ".join(clean_text(person.get(k)) for k in ("user", "display_name", "dn", "source", "error")
                       if person.get(k))
    search = (search + u" " + u" ".join(person["reasons"]) + u" " + status).lower()
    reasons = u"".join(u"<li>%s</li>" % _html(r) for r in person["reasons"])
    extra = []
    if person.get("error"):
        extra.append(u'<div class="err">%s</div>' % _html(person["error"]))
    if person.get("hint"):
        extra.append(u'<div class="hint">%s</div>' % _html(person["hint"]))
    meta = []
    if person.get("source"):
        meta.append(u"source: %s" % _html(person["source"]))
    if person.get("source_version"):
        meta.append(u"version: %s" % _html(person["source_version"]))
    if person.get("backup_file"):
        meta.append(u"backup: %s" % _html(person["backup_file"]))
    if meta:
        extra.append(u'<div class="meta">%s</div>' % u"<br>".join(meta))
    return (
        u'<div class="row s-{status}" data-status="{status}" data-search="{search}">'
        u'<div class="who"><div class="name"><bdi>{name}</bdi></div>'
        u'<div class="user"><bdi>{user}</bdi></div><div class="dn"><bdi>{dn}</bdi></div></div>'
        u'<div class="photos">{before}<span class="arrow" aria-hidden="true">\u2192</span>{after}</div>'
        u'<div class="what"><span class="badge">{title}</span>{written}<ul>{reasons}</ul>{extra}</div>'
        u'</div>\n'
    ).format(status=_html(status), search=_html(search), name=_html(name), user=_html(person["user"]),
             dn=_html(person["dn"]), title=_html(STATUS_TITLES[status]),
             written=u'<span class="written">written</span>' if person["written"] else u"",
             before=_figure("before", person["before"], photos.get("before"), name),
             after=_figure("after", person["after"], photos.get("after"), name),
             reasons=reasons, extra=u"".join(extra))


_RUN_LABELS = (("check_mode", "Check mode"), ("scope", "Scope"), ("source", "Source"), ("attribute", "Attribute"),
               ("profile_fingerprint", "Image profile"), ("collection_version", "photosync.ad"))


def _run_value(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and value and all(isinstance(v, dict) and "report" in v for v in value):
        # merged_from: one readable line per part
        return "; ".join("%s (%s people%s)" % (v.get("report"), v.get("total"),
                                               ", " + _run_value(v["scope"]) if v.get("scope") else "")
                         for v in value)
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
        return ", ".join("%s %s" % (k.replace("_", " "), _run_value(v)) for k, v in sorted(value.items()))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def render_html_head(run_info, summary, generated_at, rows, include_photos):
    counts = summary["counts"]
    mode = "check mode (nothing written)" if run_info.get("check_mode") else "applied"
    run_items = []
    for key, label in _RUN_LABELS:
        if run_info.get(key) not in (None, ""):
            run_items.append((label, run_info[key]))
    for key in sorted(run_info):
        if key not in dict(_RUN_LABELS) and run_info[key] not in (None, "", [], {}):
            run_items.append((key.replace("_", " "), run_info[key]))
    run_html = u"".join(u"<div><dt>%s</dt><dd>%s</dd></div>" % (_html(k), _html(_run_value(v)))
                        for k, v in run_items)
    cards = [u'<div class="card total"><div class="n" id="count-total" data-count="%d">%d</div>'
             u'<div class="l">people in scope</div></div>' % (summary["total"], summary["total"])]
    for status in STATUSES:
        cards.append(
            u'<div class="card s-%s%s" title="%s"><div class="n" id="count-%s" data-count="%d">%d</div>'
            u'<div class="l">%s</div></div>' % (
                status, "" if counts[status] else " zero", _html(STATUS_HELP[status]), status, counts[status],
                counts[status], _html(STATUS_TITLES[status])))
    filters = u"".join(
        u'<label class="s-%s" title="%s"><input type="checkbox" name="status" value="%s" checked>'
        u'<span class="dot"></span>%s <span>(%d)</span></label>' % (
            s, _html(STATUS_HELP[s]), s, _html(STATUS_TITLES[s]), counts[s])
        for s in NOT_IN_SYNC)
    keys = []
    for key, label in (("unmatched_source_keys", "Source photos that match nobody"),
                       ("ambiguous_source_keys", "Source keys that match several people (nothing written)")):
        values = summary.get(key) or []
        if values:
            shown = u", ".join(_html(v) for v in values[:50])
            more = u" and %d more (see the JSON report)" % (len(values) - 50) if len(values) > 50 else u""
            keys.append(u'<p><b>%s (%d):</b> %s%s</p>' % (label, len(values), shown, more))
    no_photos = u"" if include_photos else u"<p>Photos were left out of this report (include_photos is off).</p>"
    return (
        u'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        u'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        u'<meta name="referrer" content="no-referrer">\n'
        u'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        u'<title>photosync.ad drift report {when}</title>\n<style>{css}</style>\n</head>\n<body>\n'
        u'<header><h1>Photo drift report</h1><div class="sub">Generated {when} \u00b7 {mode} \u00b7 '
        u'{nis} of {total} people not in sync</div><dl class="run">{run}</dl></header>\n<main>\n'
        u'<section class="cards" aria-label="Counts per status">{cards}</section>\n{keys}{nophotos}'
        u'<div class="toolbar"><div class="filters" role="group" aria-label="Filter by status">{filters}'
        u'<button type="button" id="all">All</button></div>'
        u'<input type="search" id="q" placeholder="Search name, account, DN, reason\u2026" aria-label="Search">'
        u'<label>Per page <select id="pagesize"><option>100</option><option selected>250</option>'
        u'<option>1000</option><option value="0">all</option></select></label>'
        u'<span class="shown" id="shown">{rows} people not in sync</span></div>\n'
        u'<div class="empty" id="empty" hidden>Nobody matches this filter.</div>\n'
        u'<div id="rows">\n'
    ).format(csp=_html(CSP), css=_CSS, when=_html(generated_at), mode=_html(mode), nis=summary["not_in_sync"],
             total=summary["total"], run=run_html, cards=u"".join(cards), keys=u"".join(keys), nophotos=no_photos,
             filters=filters, rows=rows)


def render_html_tail():
    return (u'</div>\n<div class="pager"><button type="button" id="prev">\u2190 Previous</button>'
            u'<span id="page"></span><button type="button" id="next">Next \u2192</button></div>\n</main>\n'
            u'<footer>photosync.ad drift report, schema %s version %d. This file holds photos and names: '
            u'keep it owner-only.</footer>\n<script>%s</script>\n</body>\n</html>\n' % (SCHEMA, SCHEMA_VERSION, _JS))


# ---------------------------------------------------------------------------------------------
# Reading and merging
# ---------------------------------------------------------------------------------------------

def load_report(path):
    """A JSON report as a dict, checked for our schema and a version we can read."""
    try:
        with io.open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except (IOError, OSError) as exc:
        raise _errors.ReportError("cannot read the report %s: %s" % (path, exc.strerror or exc))
    except ValueError as exc:
        raise _errors.ReportError("%s is not a JSON report: %s" % (path, exc))
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise _errors.ReportError("%s is not a photosync.ad drift report (schema %r)"
                                  % (path, data.get("schema") if isinstance(data, dict) else None))
    if not isinstance(data.get("version"), int) or data["version"] > SCHEMA_VERSION or data["version"] < 1:
        raise _errors.ReportError("%s has report version %r; this collection reads version %d"
                                  % (path, data.get("version"), SCHEMA_VERSION),
                                  hint="Update photosync.ad to merge reports written by a newer version")
    if not isinstance(data.get("people"), list):
        raise _errors.ReportError("%s has no list of people" % path)
    return data


def merge_reports(json_paths, out_dir, formats, include_photos=True):
    """Merge several JSON reports into one set of reports in ``out_dir``; returns the merged summary.

    Counts are summed and people concatenated, in the order of ``json_paths``.
    A person (by DN) found in more than one report is kept once, from the first,
    and counted in ``summary.duplicates``.  A source key is "unmatched" in the
    merge only if every run that read the same source found it unmatched (each
    split-scope run sees only its part of the people); ambiguous keys are
    unioned.  ``summary.reports`` maps each format to the file written and
    ``summary.report_changed`` says whether any file's bytes changed.
    """
    json_paths = list(json_paths or [])
    if not json_paths:
        raise _errors.ConfigurationError("merging reports needs at least one JSON report")
    merged_from = []
    generated = []
    unmatched_by_source = {}
    ambiguous = []
    seen_dns = set()
    duplicates = 0
    any_changed = False
    writer = None
    try:
        for path in json_paths:
            report = load_report(path)
            summary = report.get("summary") or {}
            run = report.get("run") or {}
            if writer is None:
                writer = ReportWriter(out_dir, formats, run, include_photos)
            generated.append(str(report.get("generated_at") or ""))
            source_key = json.dumps(run.get("source"), sort_keys=True, default=str)
            keys = set(str(k) for k in summary.get("unmatched_source_keys") or [])
            if source_key in unmatched_by_source:
                unmatched_by_source[source_key] &= keys
            else:
                unmatched_by_source[source_key] = keys
            for key in summary.get("ambiguous_source_keys") or []:
                if str(key) not in ambiguous:
                    ambiguous.append(str(key))
            any_changed = any_changed or bool(summary.get("changed"))
            merged_from.append({"report": os.path.basename(path), "generated_at": report.get("generated_at"),
                                "scope": run.get("scope"), "source": run.get("source"),
                                "total": summary.get("total")})
            photos = report.get("photos") or {}
            for person in report["people"]:
                person = normalize_person(person)
                dn = str(person["dn"] or "").lower()
                if dn:
                    if dn in seen_dns:
                        duplicates += 1
                        continue
                    seen_dns.add(dn)
                writer.add(person, _photo_bytes(photos, person.get("before")),
                           _photo_bytes(photos, person.get("after")))
            del report, photos
        unmatched = []
        for keys in unmatched_by_source.values():
            unmatched.extend(sorted(keys))
        if len(json_paths) > 1:
            writer.run_info["merged_from"] = merged_from
            # The merged report covers every part's scope, not only the first one's.
            scopes = []
            for part in merged_from:
                scope = _run_value(part["scope"]) if part["scope"] not in (None, "") else None
                if scope is not None and scope not in scopes:
                    scopes.append(scope)
            writer.run_info["scope"] = scopes
            sources = []
            for part in merged_from:
                if part["source"] not in (None, "") and _run_value(part["source"]) not in sources:
                    sources.append(_run_value(part["source"]))
            writer.run_info["source"] = sources
        # The newest input's time, not now: merging the same reports again gives the same bytes.
        writer.generated_at = max(generated) if any(generated) else utc_now()
        paths = writer.finish({"changed": any_changed, "unmatched_source_keys": unmatched,
                               "ambiguous_source_keys": ambiguous, "duplicates": duplicates})
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    result = dict(writer.summary)
    result["reports"] = paths
    result["report_changed"] = writer.changed
    return result


def _photo_bytes(photos, summary):
    if not summary or not isinstance(summary, dict):
        return None
    encoded = photos.get(summary.get("sha256"))
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded)
    except (TypeError, ValueError):
        return None


def render_reports(src, dest, formats, include_photos=True, check_mode=False):
    """What thumbnail_photo_report does: merge/re-render ``src`` JSON reports into ``dest``.

    Returns the merged summary with ``reports`` ({format: path in dest}) and
    ``report_changed``.  Every input is read before anything is replaced, so
    ``dest`` may hold one of the inputs.  In check mode the reports are built in a private
    temporary folder, compared with those in ``dest`` and thrown away.
    """
    dest = os.path.abspath(dest)
    for path in src:
        if os.path.isdir(path):
            raise _errors.ConfigurationError("%s is a folder; give the JSON report file (%s)"
                                             % (path, FILE_NAMES["json"]))
    if not check_mode:
        return merge_reports(src, dest, formats, include_photos)
    scratch = tempfile.mkdtemp(prefix="photosync-report-check-")
    try:
        result = merge_reports(src, scratch, formats, include_photos)
        changed = False
        reports = {}
        for fmt, path in result["reports"].items():
            target = os.path.join(dest, os.path.basename(path))
            reports[fmt] = target
            changed = changed or not _same_content(path, target)
        result["reports"] = reports
        result["report_changed"] = changed
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
