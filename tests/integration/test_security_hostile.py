"""Issue 12, hostile input: values someone else controls (identities, directory attributes that name files,
remote answers, display names) never widen a search, never reach outside the chosen folder, never turn a
broken answer into "no photo", and never inject markup into a report.

thumbnail_photo_sync runs in-process (AnsibleModule) against the real Samba DC and the SharePoint/Graph test
server (tests/support/sptest); the directory is verified with dcread (ldapsearch), never with the collection.
The promises and the test that proves each are listed in docs/security.md.
"""

import csv
import io
import json
import os
import xml.etree.ElementTree as ET

from PIL import Image

import dcread
import scratch_people
from syncrun import run

from ansible_collections.photosync.ad.plugins.module_utils import _image

PROFILE = _image.ImageProfile()


def jpeg(rgb, size=(120, 120), mark=0):
    image = Image.new("RGB", size, rgb)
    for bit in range(8):
        if mark >> bit & 1:
            image.paste((0, 0, 0), ((bit % 4) * 16, (bit // 4) * 16, (bit % 4) * 16 + 12, (bit // 4) * 16 + 12))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def photo(base, sam):
    return dcread.read_photo(scratch_people.person_dn(base, sam))


def files_under(folder):
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, dirs, names in os.walk(folder) for name in names)


# --- identities and attribute values in filters --------------------------------------------------------

HOSTILE_IDENTITIES = [
    "*", "(", ")", "\\", "inj\x00a", "*)(objectClass=*", "inj*", "inj-a)(|(sAMAccountName=*",
    "*)(sAMAccountName=inj-b", "inj-a\\2a", "x" * 5000, "Jürgen☃\U0001F600", "*@example.test",
    "inj-*@example.test", "inj-a@example.test)(mail=*", "\\2a", "inj-a\x00", "inj-a\x00*", "inj-a\x00)(cn=*",
]


def test_hostile_identities_match_exactly_and_never_widen_the_search(dc, ou, tmp_path, capsys):
    """Identities built to widen an LDAP filter (wildcards, parentheses, backslashes, NUL, escapes already
    escaped, 5,000 characters, unicode) select nobody - or exactly the person named - and nobody else's photo
    is written.  The people exist, so a widened search would find them."""
    folder = tmp_path / "photos"
    folder.mkdir()
    people = [dict(sam="inj-a", mail="inj-a@example.test"), dict(sam="inj-b", mail="inj-*@example.test"),
              dict(sam="inj-c", mail="*@example.test"), dict(sam="inj-d", display="*)(objectClass=*")]
    for i, person in enumerate(people):
        (folder / ("%s.jpg" % person["sam"])).write_bytes(jpeg((10, 200, 10), mark=i + 1))
    base = ou(people)
    result = run(dc, capsys, identities=HOSTILE_IDENTITIES, photo_dir=str(folder), fail_on_error=False,
                 max_listed=100)
    by_user = {}
    for record in result["not_in_sync"]:
        by_user.setdefault(record["user"], []).append(record)
    # Only exact values match: the mail "inj-*@example.test" and "*@example.test" are those people's real
    # mail addresses (a literal asterisk).  "inj-a\x00..." must not select inj-a (Samba ends a filter value
    # at an escaped NUL: failed before the fix, inj-a was selected).
    written = sorted(r["dn"] for r in result["not_in_sync"] if r["written"])
    assert written == sorted(scratch_people.person_dn(base, sam) for sam in ("inj-b", "inj-c"))
    assert photo(base, "inj-a") is None, "inj-a was selected by an identity that is not its name"
    assert photo(base, "inj-d") is None, "inj-d was reached through a widened filter"
    nul = [r for r in result["not_in_sync"] if "\x00" in r["user"]]
    assert len(nul) == 4 and all("NUL" in r["error"] or "control character" in r["error"] for r in nul)
    errors = [r for r in result["not_in_sync"] if r["status"] == "error"]
    # Every other identity resolved to nobody (no user matches, a control character, a domain that is not
    # this directory's): none of them reached an object.
    assert all(r["dn"] is None and r["error"] for r in errors), errors
    assert len(errors) == len(HOSTILE_IDENTITIES) - 2
    # Each hostile identity is its own entry: none of them matched several people.
    assert not any("objects match" in (r["error"] or "") for r in errors)
    assert result["total"] == len(HOSTILE_IDENTITIES)


def test_a_filter_value_with_ldap_syntax_selects_nobody_else(dc, ou, tmp_path, capsys):
    """Identities of every identity_type with injected filter syntax: nobody outside the exact match."""
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "inj2-a.jpg").write_bytes(jpeg((200, 10, 10)))
    base = ou([dict(sam="inj2-a"), dict(sam="inj2-b")])
    (folder / "inj2-b.jpg").write_bytes(jpeg((200, 10, 200)))
    for identity_type in ("sAMAccountName", "userPrincipalName", "mail"):
        result = run(dc, capsys, identities=["inj2-*", "*)(|(objectClass=*", "inj2-b)(!(x=y"],
                     identity_type=identity_type, photo_dir=str(folder), fail_on_error=False)
        assert result["written"] == 0 and result["counts"]["error"] == 3, (identity_type, result["not_in_sync"])
    assert photo(base, "inj2-a") is None and photo(base, "inj2-b") is None


# --- directory values that build file names -------------------------------------------------------------

HOSTILE_NAMES = [
    ("fn-dotdot", "../../outside@example.test", "../../outside"),
    ("fn-abs", "/etc/passwd@example.test", "/tmp/abs-target"),
    ("fn-con", "CON@example.test", "CON"),
    ("fn-long", ("l" * 180) + "@example.test", "d" * 250),
    ("fn-dots", "..@example.test", ".."),
    ("fn-hidden", ".bashrc@example.test", ".hidden"),
]


def test_names_from_the_directory_never_read_or_write_outside_the_chosen_folders(dc, ou, tmp_path, capsys):
    """People whose mail / displayName are ``../``, absolute paths, reserved or over-long names, used in
    photo_name_templates, with backups and missing_source=remove: such a name is refused for that person (an
    error, so nothing is removed), every file written is inside backup_dir or report_dir, the decoy files
    outside photo_dir are never used, and the others in the run go on."""
    work = tmp_path / "work"
    folder = work / "photos"
    folder.mkdir(parents=True)
    outside = {}
    # Decoys where a path built naively from those values would land.
    for name in ("outside@example.test.jpg", "outside.jpg", "passwd@example.test.jpg", "abs-target.jpg",
                 "x@example.test.jpg"):
        path = work / name
        path.write_bytes(jpeg((255, 0, 0)))
        outside[str(path)] = path.read_bytes()
    (folder / "fn-ok.jpg").write_bytes(jpeg((0, 255, 0)))
    old = jpeg((0, 0, 255), (64, 64))
    people = [dict(sam=sam, mail=mail, display=display, photo=old) for sam, mail, display in HOSTILE_NAMES]
    base = ou(people + [dict(sam="fn-ok", photo=old), dict(sam="fn-gone", photo=old)])
    backups, reports = work / "backups", work / "reports"
    before = files_under(str(tmp_path))
    result = run(dc, capsys, search_base=base, photo_dir=str(folder),
                 photo_name_templates=["{mail}.jpg", "{displayName}.jpg", "{sAMAccountName}.jpg"],
                 missing_source="remove", backup_dir=str(backups), report_dir=str(reports),
                 report_formats=["json", "html", "junit", "csv"], fail_on_error=False, max_listed=100)
    by_user = dict((r["user"], r) for r in result["not_in_sync"])
    for sam in ("fn-dotdot", "fn-abs", "fn-con", "fn-dots", "fn-hidden"):
        assert by_user[sam]["status"] == "error" and "refusing" in by_user[sam]["error"], by_user[sam]
        assert photo(base, sam) == old, "%s lost its photo" % sam
    # 180 characters + '@example.test.jpg' fits in a file name: looked for (inside photo_dir), not found.
    assert by_user["fn-long"]["status"] == "remove" and photo(base, "fn-long") is None
    assert by_user["fn-gone"]["status"] == "remove" and photo(base, "fn-gone") is None
    assert by_user["fn-ok"]["written"] and photo(base, "fn-ok") == _image.normalize(jpeg((0, 255, 0)), PROFILE).data
    created = sorted(set(files_under(str(tmp_path))) - set(before))
    assert created and all(name.startswith(("work/backups/", "work/reports/")) for name in created), created
    for path, data in outside.items():
        with open(path, "rb") as handle:
            assert handle.read() == data
    assert not os.path.exists("/tmp/abs-target.jpg") and not os.path.exists("/tmp/abs-target")
    sidecars = [json.load(open(os.path.join(str(backups), n))) for n in os.listdir(str(backups)) if n.endswith(".json")]
    assert sorted(x["sAMAccountName"] for x in sidecars) == ["fn-gone", "fn-long", "fn-ok"]


# --- reports through a real run ------------------------------------------------------------------------------

HOSTILE_DISPLAY = [
    "<script>alert('x')</script>", "\"><img src=x onerror=alert(1)>", "=HYPERLINK(\"http://x\",\"y\")",
    "+cmd|' /C calc'!A0", "@SUM(1+1)", "]]></failure><x>", "Jürgen ☃ \U0001F600 \u202eevil", "a\tb;c,d\"e'f",
]


def test_hostile_display_names_are_escaped_in_every_report_of_a_real_run(dc, ou, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    people = []
    for i, display in enumerate(HOSTILE_DISPLAY):
        sam = "rep-%d" % i
        people.append(dict(sam=sam, display=display, photo=jpeg((0, 0, 200), (64, 64), mark=i + 1)))
        (folder / ("%s.jpg" % sam)).write_bytes(jpeg((200, 0, 0), mark=i + 1))
    base = ou(people)
    reports = tmp_path / "reports"
    result = run(dc, capsys, search_base=base, photo_dir=str(folder), report_dir=str(reports),
                 report_formats=["json", "html", "junit", "csv"])
    assert result["written"] == len(HOSTILE_DISPLAY)
    html = (reports / "photosync-report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html and "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(" in html or "\\u003cscript" in html
    junit = ET.parse(str(reports / "photosync-report.junit.xml"))
    text = ET.tostring(junit.getroot(), encoding="unicode")
    parsed = "".join(junit.getroot().itertext()) + " ".join(
        v for e in junit.getroot().iter() for v in e.attrib.values())
    for display in HOSTILE_DISPLAY:
        if "\u202e" in display:
            continue
        assert display.split(" ", 1)[0] in parsed or display in text
    assert junit.getroot().find(".//x") is None, "a display name added an element to the JUnit file"
    with open(str(reports / "photosync-report.csv"), newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(HOSTILE_DISPLAY)
    cells = [value for row in rows for value in row.values() if value]
    # No cell starts a spreadsheet formula.
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], [c for c in cells if c[:1] in "=+-@"]
    names = dict((r["user"], r.get("display_name")) for r in rows)
    assert names["rep-0"].lstrip("'") == HOSTILE_DISPLAY[0]
    assert names["rep-2"].lstrip("'") == HOSTILE_DISPLAY[2]
    data = json.loads((reports / "photosync-report.json").read_text(encoding="utf-8"))
    assert sorted(p["display_name"] for p in data["people"]) == sorted(HOSTILE_DISPLAY)
