# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark data: N people in a dedicated OU of the test DC and N source photos.

Both steps are idempotent: people that exist are kept (extra ones beyond N are deleted),
photo files that exist are kept.  People are added without passwords (userAccountControl
544: enabled, no password required) over several connections; photos are 600x800 JPEGs of
60-150 KB with varied content (shapes, colours, grain and quality differ per person),
written on all cores.
"""

from __future__ import print_function

import io
import json
import os
import random
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import ldap3
from ldap3.core.exceptions import LDAPException

WIDTH, HEIGHT = 600, 800
OU_NAME = "PhotosyncBench"
_GRAINS = []


def sam(i):
    return "bench%05d" % i


def load_dc(dc_dir):
    path = os.path.join(dc_dir, "dc.json")
    if not os.path.exists(path):
        raise SystemExit("no %s: start the test DC first (tests/support/samba-dc start) or pass --dc-dir" % path)
    with open(path) as handle:
        return json.load(handle)


def connect(dc, user=None, password=None):
    tls = ldap3.Tls(ca_certs_file=dc["ca_cert"], validate=2)
    server = ldap3.Server(dc["server"], port=dc.get("ldaps_port", 636), use_ssl=True, tls=tls, get_info=ldap3.NONE)
    return ldap3.Connection(server, user=user or dc["admin"]["username"], password=password or dc["admin"]["password"],
                            auto_bind=True, raise_exceptions=False, receive_timeout=120)


def bench_ou(dc):
    return "OU=%s,%s" % (OU_NAME, dc["base_dn"])


def existing_people(conn, ou):
    found = {}
    for entry in conn.extend.standard.paged_search(ou, "(objectClass=user)", search_scope=ldap3.LEVEL,
                                                   attributes=["sAMAccountName"], paged_size=500, generator=True):
        if entry.get("type") == "searchResEntry":
            found[entry["raw_attributes"]["sAMAccountName"][0].decode("utf-8")] = entry["dn"]
    return found


def ensure_people(dc, count, connections=4):
    """Exactly ``count`` people bench00001.. in OU=PhotosyncBench; returns (seconds, added, deleted)."""
    t0 = time.time()
    ou = bench_ou(dc)
    conn = connect(dc)
    if not conn.search(ou, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["1.1"]):
        conn.add(ou, ["top", "organizationalUnit"], {"description": "photosync.ad benchmark people"})
    have = existing_people(conn, ou)
    conn.unbind()
    wanted = set(sam(i) for i in range(1, count + 1))
    todo = sorted(wanted - set(have))
    extra = sorted(set(have) - wanted)
    domain = dc["dns_domain"]
    errors = []

    def work(chunk, deletions):
        try:
            c = connect(dc)
            for name in chunk:
                ok = c.add("CN=%s,%s" % (name, ou), ["top", "person", "organizationalPerson", "user"], {
                    "sAMAccountName": name, "userPrincipalName": "%s@%s" % (name, domain),
                    "mail": "%s@%s" % (name, domain), "displayName": "Bench %s" % name,
                    "givenName": "Bench", "sn": name, "userAccountControl": "544"})
                if not ok:
                    errors.append("%s: %s" % (name, c.result))
            for dn in deletions:
                c.delete(dn)
            c.unbind()
        except LDAPException as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=work, args=(todo[i::connections], [have[n] for n in extra[i::connections]]))
               for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("benchdata: adding people failed: %s" % errors[0])
    return time.time() - t0, len(todo), len(extra)


def _grains():
    from PIL import Image
    if not _GRAINS:
        for i in range(8):
            noise = Image.effect_noise((WIDTH, HEIGHT), 4.2 + i * 0.5)
            _GRAINS.append(Image.merge("RGB", (noise, noise, noise)))
    return _GRAINS


def photo(seed):
    """A 600x800 portrait-like JPEG, 60-150 KB, different for every seed."""
    from PIL import Image, ImageChops, ImageDraw
    rnd = random.Random(seed)
    img = Image.new("RGB", (WIDTH, HEIGHT), tuple(rnd.randrange(60, 200) for dummy in range(3)))
    draw = ImageDraw.Draw(img)
    for dummy in range(rnd.randrange(4, 10)):
        x0, y0 = rnd.randrange(-100, WIDTH), rnd.randrange(-100, HEIGHT)
        draw.rectangle([x0, y0, x0 + rnd.randrange(40, 300), y0 + rnd.randrange(40, 300)],
                       fill=tuple(rnd.randrange(256) for dummy in range(3)))
    cx, cy = WIDTH // 2 + rnd.randrange(-60, 60), HEIGHT * 2 // 5 + rnd.randrange(-60, 60)
    draw.ellipse([cx - 150, cy - 190, cx + 150, cy + 190],
                 fill=(rnd.randrange(150, 250), rnd.randrange(110, 200), rnd.randrange(90, 170)))
    draw.ellipse([cx - 70, cy - 40, cx - 30, cy], fill=(40, 40, 40))
    draw.ellipse([cx + 30, cy - 40, cx + 70, cy], fill=(40, 40, 40))
    draw.rectangle([cx - 220, cy + 230, cx + 220, HEIGHT], fill=tuple(rnd.randrange(256) for dummy in range(3)))
    grain = ImageChops.offset(rnd.choice(_grains()), rnd.randrange(64), rnd.randrange(64))
    img = ImageChops.add(img, grain, scale=1.0, offset=-128)
    quality = rnd.randrange(80, 91)
    while True:  # 60-150 KB, as real 600x800 portraits are: nudge the quality until the size is there
        out = io.BytesIO()
        img.save(out, "JPEG", quality=quality)
        size = len(out.getvalue())
        if size < 60 * 1024 and quality < 95:
            quality += 2
        elif size > 150 * 1024 and quality > 60:
            quality -= 4
        else:
            return out.getvalue()


def _write_photo(args):
    path, seed = args
    data = photo(seed)
    tmp = path + ".part"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.rename(tmp, path)
    return len(data)


def ensure_photos(photo_dir, count, workers=None, generation=0):
    """``<sam>.jpg`` for every person; returns (seconds, written, total bytes of all photos)."""
    t0 = time.time()
    if not os.path.isdir(photo_dir):
        os.makedirs(photo_dir)
    todo = []
    for i in range(1, count + 1):
        path = os.path.join(photo_dir, sam(i) + ".jpg")
        if not os.path.exists(path):
            todo.append((path, i * 7919 + generation))
    if todo:
        with ProcessPoolExecutor(workers or os.cpu_count()) as pool:
            list(pool.map(_write_photo, todo, chunksize=32))
    total = sum(os.path.getsize(os.path.join(photo_dir, sam(i) + ".jpg")) for i in range(1, count + 1))
    return time.time() - t0, len(todo), total


def change_photos(photo_dir, names, generation):
    """Give ``names`` new source photos (another seed): what '1% of sources changed' means."""
    for name in names:
        i = int(name[len("bench"):])
        _write_photo((os.path.join(photo_dir, name + ".jpg"), i * 7919 + 1000003 * generation))


def remove_people(dc):
    """Delete the benchmark OU and everyone in it (``--cleanup``)."""
    ou = bench_ou(dc)
    conn = connect(dc)
    for dn in existing_people(conn, ou).values():
        conn.delete(dn)
    conn.delete(ou)
    conn.unbind()
