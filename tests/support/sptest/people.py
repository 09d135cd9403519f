# -*- coding: utf-8 -*-
"""People and their photos for the SharePoint/Graph test server.

A person is a dict-like record; photos are deterministic JPEGs drawn with Pillow from a seed, made
lazily and cached (1,200 people start instantly).  Sizes follow SharePoint 2013+ (L <= 300, M 72,
S 48 px, aspect kept, never upscaled) and Graph (48..648 square boxes not larger than the original).
"""

import calendar
import hashlib
import io
import json
import random
import threading
import time
import uuid
import zlib

from PIL import Image, ImageDraw

SP_SIZES = {"L": 300, "M": 72, "S": 48}
GRAPH_SIZES = (48, 64, 96, 120, 240, 360, 432, 504, 648)
NS = uuid.UUID("6f1c3a52-0d7e-4c55-9c53-3f0c2b7d9a10")
BASE_TIME = calendar.timegm((2024, 1, 2, 8, 0, 0, 0, 0, 0))
LOCALIZED_FOLDERS = ("Profilbilder", "Photos du profil")


def _jpeg(img, quality=88):
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def draw_portrait(seed, width, height):
    """A deterministic, seed-dependent avatar-like RGB image."""
    rng = random.Random(seed)
    bg = tuple(rng.randrange(30, 225) for dummy in range(3))
    img = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(img)
    for dummy in range(6):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(max(2, width // 10), max(3, width // 3))
        colour = tuple(max(0, min(255, c + rng.randrange(-50, 50))) for c in bg)
        draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=colour)
    skin = rng.choice([(241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172)])
    shirt = tuple(rng.randrange(0, 256) for dummy in range(3))
    cx = width // 2 + rng.randrange(-width // 12, width // 12 + 1)
    head = int(min(width, height) * rng.uniform(0.17, 0.24))
    cy = int(height * rng.uniform(0.36, 0.44))
    draw.ellipse((cx - 2 * head, cy + head, cx + 2 * head, cy + 4 * head), fill=shirt)
    draw.ellipse((cx - head, cy - head, cx + head, cy + head), fill=skin)
    eye = max(1, head // 7)
    for dx in (-head // 3, head // 3):
        draw.ellipse((cx + dx - eye, cy - head // 5 - eye, cx + dx + eye, cy - head // 5 + eye), fill=(30, 30, 30))
    return img


def placeholder(size_letter):
    """SharePoint's grey silhouette placeholder (what userphoto.aspx serves without a photo)."""
    px = {"L": 300, "M": 72, "S": 48}.get(size_letter, 72)
    img = Image.new("RGB", (px, px), (234, 234, 234))
    draw = ImageDraw.Draw(img)
    c, h = px // 2, px // 5
    draw.ellipse((c - h, int(px * 0.38) - h, c + h, int(px * 0.38) + h), fill=(190, 190, 190))
    draw.ellipse((c - 2 * h, int(px * 0.38) + int(1.4 * h), c + 2 * h, int(px * 0.38) + 5 * h), fill=(190, 190, 190))
    return _jpeg(img)


class PhotoSet(object):
    """All renditions of one photo version, made on first use."""

    def __init__(self, seed=None, data=None, size=(648, 648)):
        self.seed, self.data, self.size = seed, data, tuple(size)
        self._lock = threading.Lock()
        self._cache = {}

    def _original_image(self):
        if self.data is not None:
            img = Image.open(io.BytesIO(self.data))
            img.load()
            return img.convert("RGB")
        return draw_portrait(self.seed, self.size[0], self.size[1])

    def original(self):
        with self._lock:
            if "original" not in self._cache:
                if self.data is not None and self.data[:3] == b"\xff\xd8\xff":
                    self._cache["original"] = self.data
                else:
                    self._cache["original"] = _jpeg(self._original_image())
                img = Image.open(io.BytesIO(self._cache["original"]))
                self._cache["dims"] = img.size
            return self._cache["original"]

    def dims(self):
        self.original()
        return self._cache["dims"]

    def rendition(self, box):
        """JPEG that fits in box x box (aspect kept, no upscale)."""
        key = ("box", box)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        img = Image.open(io.BytesIO(self.original()))
        img = img.convert("RGB")
        img.thumbnail((box, box), Image.LANCZOS)
        data = _jpeg(img)
        with self._lock:
            self._cache[key] = data
        return data

    def sp(self, letter):
        return self.rendition(SP_SIZES[letter])

    def graph_sizes(self):
        w, h = self.dims()
        return [s for s in GRAPH_SIZES if s <= min(w, h)]


def _guid(text):
    return str(uuid.uuid5(NS, text))


class Person(object):
    """One profile. ``profile`` is "ok" or how a missing profile answers: "null", "404", "500"."""

    FIELDS = ("account", "upn", "object_id", "display_name", "email", "has_photo", "photo_seed",
              "photo_size", "picture_url_null", "placeholder", "profile", "photo_folder", "dn", "sid", "index")

    def __init__(self, index, account, upn=None, object_id=None, display_name=None, email=None,
                 has_photo=True, photo_seed=None, photo_size=648, picture_url_null=False, placeholder=False,
                 profile="ok", photo_folder="Profile Pictures", dn=None, sid=None, **_ignored):
        if "\\" not in account:
            raise ValueError("account must be DOMAIN\\user: %r" % (account,))
        self.index = index
        self.account = account
        self.domain, self.sam = account.split("\\", 1)
        self.upn = upn or "%s@example.test" % self.sam.lower()
        self.object_id = str(uuid.UUID(str(object_id).strip("{}"))) if object_id else _guid("oid:" + self.upn.lower())
        self.display_name = display_name or self.sam
        self.email = email if email is not None else self.upn
        self.photo_seed = photo_seed if photo_seed is not None else zlib.crc32(self.account.lower().encode("utf-8"))
        if isinstance(photo_size, int):
            photo_size = (photo_size, photo_size)
        self.photo_size = tuple(photo_size)
        self.picture_url_null = bool(picture_url_null)
        # SharePoint shows a placeholder (SPS-PicturePlaceholderState 1, top-level PictureUrl null) while
        # PictureURL still names the old _MThumb.jpg, which is still served: what public captures show.
        self.placeholder = bool(placeholder)
        self.profile = str(profile)
        self.photo_folder = photo_folder or "Profile Pictures"
        self.dn = dn or "CN=%s,OU=People,DC=example,DC=test" % self.display_name
        self.sid = sid or "S-1-5-21-1004336348-1177238915-682003330-%d" % (1100 + index)
        self.profile_guid = _guid("profile:" + self.account.lower())
        self.file_guid = _guid("file:" + self.account.lower()).upper()
        self.version = 1
        self.changed = BASE_TIME + index
        self.photos = PhotoSet(seed=self.photo_seed, size=self.photo_size) if has_photo else None

    @property
    def has_photo(self):
        return self.photos is not None

    # --- names -----------------------------------------------------------------------------
    def claims_onprem(self):
        return u"i:0#.w|%s" % self.account.lower()

    def claims_online(self):
        return u"i:0#.f|membership|%s" % self.upn.lower()

    def onprem_file(self, letter):
        return u"%s_%s_%sThumb.jpg" % (self.domain, self.sam, letter)

    def online_file(self, letter):
        return u"%s_%sThumb.jpg" % (self.object_id, letter)

    def picture_timestamp(self):
        return 63800000000 + self.version * 100000 + self.index % 100000

    def etag(self):
        return u'"{%s},%d"' % (self.file_guid, self.version)

    def media_etag(self):
        return u'"%08X"' % (zlib.crc32(self.photos.original()) & 0xFFFFFFFF) if self.photos else None

    # --- changes ---------------------------------------------------------------------------
    def set_photo(self, seed=None, data=None, size=None):
        if data is None and seed is None:
            seed = self.photo_seed + 7919
        if size is not None:
            self.photo_size = (size, size) if isinstance(size, int) else tuple(size)
        if seed is not None:
            self.photo_seed = seed
        self.photos = PhotoSet(seed=seed, data=data, size=self.photo_size)
        self.version += 1
        self.changed = int(time.time())

    def remove_photo(self):
        self.photos = None
        self.version += 1
        self.changed = int(time.time())

    def photo_hashes(self):
        if not self.photos:
            return None
        out = {letter: hashlib.sha256(self.photos.sp(letter)).hexdigest() for letter in SP_SIZES}
        out["original"] = hashlib.sha256(self.photos.original()).hexdigest()
        return out

    def describe(self, urls=None, hashes=True):
        out = {
            "account": self.account, "domain": self.domain, "sam": self.sam, "upn": self.upn,
            "object_id": self.object_id, "display_name": self.display_name, "email": self.email,
            "has_photo": self.has_photo, "photo_seed": self.photo_seed, "photo_size": list(self.photo_size),
            "picture_url_null": self.picture_url_null, "placeholder": self.placeholder, "profile": self.profile, "photo_folder": self.photo_folder,
            "dn": self.dn, "sid": self.sid, "claims_onprem": self.claims_onprem(),
            "claims_online": self.claims_online(), "version": self.version,
        }
        if urls:
            out.update(urls)
        if hashes and self.photos:
            out["photo_sha256"] = self.photo_hashes()
            out["graph_sizes"] = self.photos.graph_sizes()
        return out


DEFAULT_PEOPLE = [
    {"account": "EXAMPLE\\alice", "upn": "alice@example.test", "display_name": "Alice Adams", "photo_seed": 101},
    {"account": "EXAMPLE\\bob", "upn": "bob@example.test", "display_name": "Bob Brown", "photo_seed": 202,
     "picture_url_null": True, "photo_size": 240},
    {"account": "EXAMPLE\\carol", "upn": "carol@example.test", "display_name": "Carol Clark", "has_photo": False},
    {"account": "EXAMPLE\\o'brien", "upn": "o'brien@example.test", "display_name": "Dara O'Brien", "photo_seed": 404},
    {"account": u"EXAMPLE\\j\u00fcrgen", "upn": u"j\u00fcrgen@example.test", "display_name": u"J\u00fcrgen Vogel",
     "photo_seed": 505, "photo_folder": "Profilbilder", "photo_size": [480, 640]},
    {"account": "EXAMPLE\\eve", "upn": "eve@example.test", "display_name": "Eve Martin", "photo_seed": 606,
     "photo_folder": "Photos du profil", "photo_size": 96},
    {"account": "EXAMPLE\\noprofile", "upn": "noprofile@example.test", "display_name": "No Profile",
     "profile": "null"},
    {"account": "EXAMPLE\\frank", "upn": "frank@example.test", "display_name": "Frank Placeholder",
     "photo_seed": 707, "placeholder": True},
    {"account": "EXAMPLE\\gone404", "upn": "gone404@example.test", "display_name": "Gone 404", "profile": "404"},
    {"account": "EXAMPLE\\broken500", "upn": "broken500@example.test", "display_name": "Broken 500",
     "profile": "500"},
]


def generated_person(i, domain="EXAMPLE", realm="example.test"):
    """bulkNNNN: 3 in 4 have a photo; a few quirks spread deterministically."""
    sam = "bulk%04d" % i
    sizes = [648, 432, 240, 96, (480, 640)]
    return {
        "account": "%s\\%s" % (domain, sam), "upn": "%s@%s" % (sam, realm),
        "display_name": "Bulk User %04d" % i, "has_photo": i % 4 != 0, "photo_seed": 10000 + i,
        "photo_size": sizes[i % len(sizes)], "picture_url_null": i % 10 == 3,
        "photo_folder": LOCALIZED_FOLDERS[i % 2] if i % 50 == 7 else "Profile Pictures",
        "dn": "CN=%s,OU=Bulk,DC=%s" % (sam, ",DC=".join(realm.split("."))),
    }


def people_from_dc(path):
    """People from the Samba test DC's dc.json: every seeded user gets a SharePoint photo."""
    with open(path, "rb") as handle:
        data = json.loads(handle.read().decode("utf-8"))
    netbios = data.get("netbios") or data.get("netbios_domain") or ""
    realm = (data.get("realm") or data.get("dns_domain") or "example.test").lower()
    if not netbios:
        netbios = realm.split(".")[0].upper()
    users = data.get("users") or {}
    if isinstance(users, list):
        users = {(u.get("sAMAccountName") or u.get("sam") or ""): u for u in users if isinstance(u, dict)}
    out = []
    for sam, user in sorted(users.items()):
        if not isinstance(user, dict):
            continue
        sam = user.get("sAMAccountName") or sam
        if not sam:
            continue
        upn = user.get("upn") or user.get("userPrincipalName") or "%s@%s" % (sam, realm)
        guid = user.get("objectGUID") or user.get("object_guid")
        try:
            guid = str(uuid.UUID(str(guid).strip("{}"))) if guid else None
        except ValueError:
            guid = None
        out.append({
            "account": "%s\\%s" % (netbios, sam), "upn": upn, "object_id": guid,
            "display_name": user.get("displayName") or user.get("display_name") or user.get("cn") or sam,
            "email": user.get("mail") or upn, "dn": user.get("dn"), "sid": user.get("objectSid"),
            "has_photo": user.get("sharepoint_photo", True),
            "photo_seed": zlib.crc32(("dc:" + sam.lower()).encode("utf-8")),
        })
    return out, netbios, realm


def load_people_file(path):
    with open(path, "rb") as handle:
        data = json.loads(handle.read().decode("utf-8"))
    if isinstance(data, dict):
        data = data.get("people", [])
    return list(data)


class PeopleStore(object):
    """Indexes for lookups by account, UPN, object id, claims and photo file path."""

    def __init__(self, specs):
        self.people = []
        self._by_account, self._by_upn, self._by_oid = {}, {}, {}
        self.lock = threading.RLock()
        for spec in specs:
            self.add(spec)

    def add(self, spec):
        spec = dict(spec)
        spec.pop("index", None)
        person = Person(len(self.people), **spec)
        if person.account.lower() in self._by_account:
            raise ValueError("duplicate account %s" % person.account)
        self.people.append(person)
        self._by_account[person.account.lower()] = person
        self._by_upn[person.upn.lower()] = person
        self._by_oid[person.object_id.lower()] = person
        return person

    def by_account(self, account):
        return self._by_account.get(account.lower())

    def by_upn(self, upn):
        return self._by_upn.get(upn.lower())

    def by_oid(self, oid):
        return self._by_oid.get(oid.lower().strip("{}"))

    def find(self, ident):
        """Account, UPN, object id or claims name."""
        ident = ident.strip()
        low = ident.lower()
        if low.startswith("i:0#.w|"):
            return self.by_account(ident[7:])
        if low.startswith("i:0#.f|membership|"):
            return self.by_upn(ident[18:])
        return self.by_account(ident) or self.by_upn(ident) or self.by_oid(ident)
