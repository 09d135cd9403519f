# -*- coding: utf-8 -*-
"""The HTML drift report in a real browser: Debian's headless Chromium (tests/setup-env installs it).

Each test writes a report with _report.ReportWriter, opens it in Chromium and reads what the page
did: a screenshot (decoded with Pillow) and the DOM after the page's script ran (--dump-dom after
--virtual-time-budget). The page's script records its own state on <body>: data-ready, the rows
per status it found, how many rows are visible and match, and how many of the visible <img> have
loaded (naturalWidth > 0) or failed. The filter is applied from the URL fragment
(#status=add&q=text&page=2), as a person sharing a link would.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from PIL import Image

from ansible_collections.photosync.ad.plugins.module_utils import _report

import reportdata
from reportdata import CANARY_ATTR, HOSTILE_NAMES, people_by_status, write_report

STATUSES = ["add", "update", "in_sync", "remove", "no_source", "conflict", "invalid_source", "error"]


def chromium_binary():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium package is needed for these tests (tests/setup-env installs it)"
    return path


def chromium(tmp_path, url, *args):
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    command = [chromium_binary(), "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
               "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
               "--user-data-dir=%s" % profile, "--virtual-time-budget=10000"]
    if os.geteuid() == 0:
        command.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    command.extend(args)
    command.append(url)
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return done.stdout.decode("utf-8")


class _Dom(HTMLParser):
    def __init__(self, text):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.body = {}
        self.rows = []
        self.counts = {}
        self.scripts = 0
        self.attrs_seen = set()
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.attrs_seen.update(attrs)
        if tag == "body":
            self.body = attrs
        elif tag == "script":
            self.scripts += 1
        elif tag == "div" and "data-status" in attrs:
            self.rows.append(attrs)
        elif attrs.get("id", "").startswith("count-"):
            self.counts[attrs["id"][6:]] = int(attrs["data-count"])

    def visible(self):
        return [r for r in self.rows if "hidden" not in r]


def dump(tmp_path, html_path, fragment=""):
    url = "file://" + quote(str(html_path)) + fragment
    dom = _Dom(chromium(tmp_path, url, "--window-size=1280,1600", "--dump-dom"))
    assert dom.body.get("data-ready") == "1", "the page's script did not run to the end: %r" % dom.body
    assert CANARY_ATTR not in dom.attrs_seen, "a display name ran script in the page"
    assert dom.scripts == 1
    return dom


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """24 people: every status, hostile display names on people not in sync."""
    statuses = STATUSES * 3
    names = [None] * len(STATUSES) + list(HOSTILE_NAMES)
    people = people_by_status(statuses, names)
    for record, _c, _d in people:
        if record["status"] == "in_sync" and record["display_name"] in HOSTILE_NAMES:
            record["display_name"] = "Quiet Person"
    folder = tmp_path_factory.mktemp("report")
    _w, paths = write_report(folder, people, summary={"unmatched_source_keys": ["/srv/photos/nobody.jpg"]})
    data = json.load(open(paths["json"], encoding="utf-8"))
    return paths, data


def test_report_renders_in_chromium_and_is_not_blank(tmp_path, report):
    paths, _data = report
    shot = tmp_path / "report.png"
    chromium(tmp_path, "file://" + quote(paths["html"]), "--window-size=1280,1400", "--screenshot=%s" % shot)
    keep = os.environ.get("PHOTOSYNC_SCREENSHOT_DIR")
    if keep:
        shutil.copy(str(shot), os.path.join(keep, "drift-report.png"))
    with Image.open(str(shot)) as image:
        assert image.size == (1280, 1400)
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 22)
        # text, status colours and the photos' gradients: thousands of colours; a blank page has one
        assert len(colours) > 2000, len(colours)
        # the styled header is dark navy across the top (the stylesheet was applied, CSP allowed it)
        r, g, b = rgb.getpixel((640, 10))
        assert r < 60 and g < 70 and 50 < b < 90, (r, g, b)
        # the page's background under the rows is the report's light grey, not a default white page
        assert rgb.getpixel((5, 1300)) == (0xf5, 0xf7, 0xfa)


def test_counts_rows_and_images_equal_the_json(tmp_path, report):
    paths, data = report
    dom = dump(tmp_path, paths["html"])
    counts = data["summary"]["counts"]
    assert dom.counts["total"] == data["summary"]["total"]
    assert dict((s, dom.counts[s]) for s in _report.STATUSES) == counts
    # the rows the script found, per status, are the JSON's people not in sync
    found = json.loads(dom.body["data-row-counts"])
    assert found == dict((s, n) for s, n in counts.items() if n and s != "in_sync")
    assert int(dom.body["data-matching-rows"]) == data["summary"]["not_in_sync"] == len(dom.visible())
    # every photo of every visible row decoded in the browser
    expected_images = sum(bool(p["before"]) + bool(p["after"]) for p in data["people"] if p["status"] != "in_sync")
    assert int(dom.body["data-images-visible"]) == expected_images > 20
    assert int(dom.body["data-images-loaded"]) == expected_images
    assert dom.body["data-images-broken"] == "0"


@pytest.mark.parametrize("fragment,wanted", [
    ("#status=add", {"add"}),
    ("#status=update,error", {"update", "error"}),
    ("#status=remove,no_source,conflict,invalid_source", {"remove", "no_source", "conflict", "invalid_source"}),
])
def test_status_filter_from_the_url_fragment(tmp_path, report, fragment, wanted):
    paths, data = report
    dom = dump(tmp_path, paths["html"], fragment)
    visible = dom.visible()
    assert set(r["data-status"] for r in visible) == wanted
    assert len(visible) == sum(data["summary"]["counts"][s] for s in wanted)
    assert int(dom.body["data-matching-rows"]) == len(visible)
    assert len(dom.rows) == data["summary"]["not_in_sync"]  # the others are hidden, not gone


def test_text_search_finds_unicode_and_markup_names(tmp_path, report):
    paths, data = report
    for needle in (u"山田", u"<b>closed", u"Person 00001"):
        dom = dump(tmp_path, paths["html"], "#q=" + quote(needle))
        visible = dom.visible()
        expected = [p for p in data["people"] if p["status"] != "in_sync"
                    and needle.lower() in " ".join([p["display_name"] or "", p["dn"] or "", p["user"]]).lower()]
        assert len(visible) == len(expected) >= 1, needle
        assert all(needle.lower() in r["data-search"] for r in visible)


def test_ten_thousand_rows_are_paged(tmp_path):
    """At 10,000 people not in sync the page shows 250 rows at a time; the filter still sees all."""
    bases = [reportdata.portrait(i, size=48) for i in range(8)]
    template = people_by_status(["update", "add", "error", "remove"])
    folder = tmp_path / "big"
    writer = _report.ReportWriter(str(folder), ["html", "json"], reportdata.RUN_INFO)
    with writer:
        for i in range(10000):
            record, current, desired = template[i % 4]
            record = dict(record, user="user%05d" % i, display_name="Person %05d" % i)
            writer.add(record, bases[i % 8] if current else None, bases[(i + 1) % 8] if desired else None)
        paths = writer.finish()
    dom = dump(tmp_path, paths["html"], "#status=add&page=10")  # one load: a 10,000-row DOM dump is slow
    visible = dom.visible()
    assert len(dom.rows) == 10000
    assert json.loads(dom.body["data-row-counts"]) == {"update": 2500, "add": 2500, "error": 2500, "remove": 2500}
    assert int(dom.body["data-matching-rows"]) == 2500
    assert len(visible) == 250 and set(r["data-status"] for r in visible) == {"add"}
    assert visible[0]["data-search"].startswith("user09001 ")  # the 2,251st add: user 4 * 2250 + 1
    assert dom.body["data-images-broken"] == "0" and int(dom.body["data-images-loaded"]) > 0
