# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Change tracking for bulk runs: which people must be read, which are known to be in sync.

This is Microsoft's documented way of polling Active Directory for changes (uSNChanged):
after a run, remember the DC (``dsServiceName`` and its database's ``invocationId``),
the DC's ``highestCommittedUSN``, and per person the ``uSNChanged`` and photo hash seen;
next time ask the *same* DC only for objects with ``uSNChanged`` above that point.

One state file per scope in ``state_dir``, named after the scope fingerprint (search base,
filter, scope, attribute, image profile, source, policy, Pillow version).  Any doubt gives
a full read, with the reason: no file, a file that does not parse or belongs to another
scope, another DC, the same DC with another invocationId (restored from backup), or
``verify: full``.  Writes are atomic and owner-only; the file holds directory
identifiers, hashes and source versions, never photo bytes or credentials.

Limits (documented in docs): USNs are per DC, so a run against another DC reads
everything once; people deleted or moved out of the scope are noticed by a second,
domain-wide delta search (deleted objects included); a change that does not move
``uSNChanged`` (none in AD for thumbnailPhoto) would not be seen; ``verify: full`` is
the escape hatch.

Usage by the sync loop (no LDAP here: the caller passes what it read)::

    tracker = ChangeTracker(state_dir, scope_fingerprint(...), verify)
    tracker.begin(point)                # point = _ldap.dc_change_point(directory)
    if tracker.full: ... read everything, tracker.record(...) per person ...
    else:
        changed, carried = tracker.partition(delta_entries_guids_usns, gone_guids)
        ...
    tracker.commit(end_point, settled_entries)   # not in check mode
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _files

SCHEMA = "photosync.ad/change-state"
VERSION = 1

# Outcomes that describe the directory as it is after the run, so that an unchanged person
# with an unchanged source can be reported the same way next time without reading anything.
SETTLED_STATUSES = ("in_sync", "add", "update", "remove", "no_source")

# Fields of a person record (short keys keep a 10,000-person file small).
_USER_FIELDS = ("dn", "sam_account_name", "user_principal_name", "mail", "object_guid", "object_sid",
                "display_name", "attributes")


def scope_fingerprint(**fields):
    """A stable hash of everything that decides what a person's photo should be.

    Pass search base, filter, scope, identities, include_disabled, attribute, image
    profile fingerprint, source identity (hashed here, so a URL with credentials is not
    stored), missing_source, Pillow version...  Equal fields give equal fingerprints.
    """
    text = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def state_path(state_dir, fingerprint):
    return os.path.join(state_dir, "photosync-state-%s.json" % fingerprint[:24])


class PersonRecord(object):
    """What the last run knew about one person."""

    __slots__ = ("guid", "usn", "user", "photo", "source_version", "source_sha256", "status")

    def __init__(self, guid, usn, user, photo, source_version, source_sha256, status):
        self.guid = guid
        self.usn = usn
        self.user = user                    # dict of _USER_FIELDS
        self.photo = photo                  # summary dict (sha256, bytes, width, height, format) or None
        self.source_version = source_version
        self.source_sha256 = source_sha256  # sha256 of the source bytes; None = the source had no photo
        self.status = status                # in_sync | no_source (what to report when nothing moved)

    def to_json(self):
        return [self.usn, self.user, self.photo, self.source_version, self.source_sha256, self.status]

    @classmethod
    def from_json(cls, guid, value):
        usn, user, photo, source_version, source_sha256, status = value
        if not isinstance(usn, int) or not isinstance(user, dict) or status not in ("in_sync", "no_source"):
            raise ValueError("bad record")
        if photo is not None and not (isinstance(photo, dict) and isinstance(photo.get("sha256"), str)):
            raise ValueError("bad photo summary")
        return cls(guid, usn, user, photo, source_version, source_sha256, status)

    def user_fields(self):
        return dict((name, self.user.get(name)) for name in _USER_FIELDS)


def user_to_dict(user):
    """A DirectoryUser (namedtuple) as the plain dict a record stores."""
    return dict((name, getattr(user, name, None)) for name in _USER_FIELDS)


def source_sha256(data):
    return hashlib.sha256(data).hexdigest() if data is not None else None


def file_version(path):
    """A cheap change token for a local file: size and modification time in nanoseconds.

    None when there is no such file.  Equal tokens are taken as equal content; a
    touched file with the same bytes costs one read and hash, never a wrong answer.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return "file:%d:%d" % (st.st_size, st.st_mtime_ns)


class ChangeTracker(object):
    """The state of one scope against one DC.  Building one does no I/O."""

    def __init__(self, state_dir, fingerprint, verify="changed"):
        if verify not in ("changed", "full"):
            raise _errors.ConfigurationError("verify must be changed or full, got %r" % (verify,))
        self.state_dir = state_dir
        self.fingerprint = fingerprint
        self.verify = verify
        self.path = state_path(state_dir, fingerprint) if state_dir else None
        self.full = True
        self.reason = "no state_dir"
        self.start_point = None
        self.since_usn = None
        self.previous = {}     # guid -> PersonRecord from the file
        self.records = {}      # guid -> PersonRecord for this run
        self.dropped = set()   # guids that left the scope or must be read next time

    # --- deciding ----------------------------------------------------------------------

    def begin(self, point):
        """Load the state file and decide: incremental (``full`` False) or full read (``reason`` why).

        ``point`` is this DC's change point *before* anything is read this run
        (``_ldap.dc_change_point``): the next run starts from it.
        """
        self.start_point = dict(point)
        self.full, self.reason = True, None
        if not self.path:
            self.reason = "no state_dir"
            return self
        if self.verify == "full":
            self.reason = "verify=full"
            return self
        if not point.get("service_name") or not point.get("invocation_id") or point.get("highest_usn") is None:
            self.reason = "the DC did not say its dsServiceName, invocationId and highestCommittedUSN"
            return self
        data, problem = self._read()
        if problem:
            self.reason = problem
            return self
        dc = data["dc"]
        if dc.get("service_name", "").lower() != point["service_name"].lower():
            self.reason = "the state was recorded against another DC (%s)" % (dc.get("server") or dc.get("service_name"))
            return self
        if dc.get("invocation_id") != point["invocation_id"]:
            self.reason = "the DC's invocationId changed (restored from a backup?)"
            return self
        if not isinstance(dc.get("highest_usn"), int) or dc["highest_usn"] > point["highest_usn"]:
            self.reason = "the state's USN is ahead of the DC's (restored DC?)"
            return self
        try:
            self.previous = dict((guid, PersonRecord.from_json(guid, value))
                                 for guid, value in data["people"].items())
        except (TypeError, ValueError, AttributeError):
            self.previous = {}
            self.reason = "the state file is damaged (a person record does not parse)"
            return self
        self.full = False
        self.since_usn = dc["highest_usn"] + 1
        return self

    def _read(self):
        """(data, None) or (None, reason for a full read)."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
        except (IOError, OSError):
            return None, "no state file yet"
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None, "the state file is damaged (not JSON)"
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            return None, "the state file is not a photosync.ad change state"
        if data.get("version") != VERSION:
            return None, "the state file has version %r, this collection writes %d" % (data.get("version"), VERSION)
        if data.get("scope") != self.fingerprint:
            return None, "the state file belongs to another scope, source or image profile"
        if not isinstance(data.get("dc"), dict) or not isinstance(data.get("people"), dict):
            return None, "the state file is damaged (missing dc or people)"
        digest = data.get("people_sha256")
        if digest != _people_digest(data["people"]):
            return None, "the state file is damaged (its checksum does not match)"
        return data, None

    def partition(self, changed, gone=()):
        """Split the scope into people to read fully and people that did not move.

        ``changed``: iterable of guids (or (guid, usn) pairs) the delta search under the scope
        returned (uSNChanged >= since_usn, scope filter applied).  ``gone``: guids of objects
        that changed anywhere in the domain, deleted ones included: those not in ``changed``
        left the scope.  Returns ``(read, carried)``: ``read`` is the set of guids to reconcile
        from the directory, ``carried`` the list of PersonRecord whose directory side is as
        recorded (the caller still checks their source, see ``source_unchanged``).
        """
        if self.full:
            raise _errors.PhotoSyncError("partition() is only for incremental runs")
        read, seen = set(), set()
        for item in changed:
            guid, usn = item if isinstance(item, tuple) else (item, None)
            seen.add(guid)
            rec = self.previous.get(guid)
            if rec is None or usn is None or rec.usn != usn:
                read.add(guid)
        gone_out = set(gone) - seen
        carried = []
        for guid, rec in self.previous.items():
            if guid in read:
                continue
            if guid in gone_out:
                self.dropped.add(guid)
                continue
            carried.append(rec)
        return read, carried

    @staticmethod
    def source_unchanged(record, version=None, data_sha256=None, absent=False):
        """True when the source evidently still holds what the record was made from.

        Give what is known cheaply: ``version`` (a probe: file size+mtime, ETag, SharePoint
        ``?t=``, Graph mediaEtag), or the sha256 of freshly fetched bytes, or ``absent``
        (the source has no photo now).  A version is trusted only when it is not None and
        equal; bytes are compared by hash.
        """
        if absent:
            return record.source_sha256 is None and record.status == "no_source"
        if data_sha256 is not None:
            return data_sha256 == record.source_sha256
        return version is not None and version == record.source_version

    # --- recording ---------------------------------------------------------------------

    def record(self, guid, usn, user, status, photo_after, source_version=None, source_data_sha256=None,
               written=False):
        """Remember one person's outcome.  Only settled outcomes are kept; anything else
        (conflict, error, invalid source, check mode) is read again next run."""
        if not guid or status not in SETTLED_STATUSES:
            self.forget(guid)
            return
        settled = "no_source" if status == "no_source" else "in_sync"
        # A written person has a new uSNChanged we have not seen yet: commit() settles it.
        self.records[guid] = PersonRecord(guid, -1 if written else usn, user if isinstance(user, dict)
                                          else user_to_dict(user), photo_after, source_version,
                                          source_data_sha256, settled)

    def carry(self, record):
        """Keep a record from the last run unchanged (nothing moved for this person)."""
        self.records[record.guid] = record

    def forget(self, guid):
        if guid:
            self.records.pop(guid, None)
            self.dropped.add(guid)

    def commit(self, end_point, settle_entries=()):
        """Write the state file.  Call only after a complete, non-check-mode run.

        ``end_point``: the DC's change point read *after* the run's writes; ``settle_entries``:
        (guid, usn, photo sha256 or None) of every in-scope person with uSNChanged >= the
        start point's USN + 1, read *after* ``end_point`` (the run's own writes among them).
        A person whose current photo is what we recorded gets its new usn; anyone else
        changed meanwhile is dropped, so the next run reads them.
        """
        if not self.path:
            return None
        if end_point.get("service_name") != self.start_point.get("service_name") or \
                end_point.get("invocation_id") != self.start_point.get("invocation_id"):
            # Failed over to another DC during the run: record nothing trustworthy.
            self._remove_file()
            return None
        for guid, usn, photo_sha in settle_entries:
            rec = self.records.get(guid)
            if rec is None:
                continue
            if (rec.photo or {}).get("sha256") == photo_sha:
                rec.usn = usn
            else:
                self.forget(guid)
        people = {}
        for guid, rec in self.records.items():
            if rec.usn is None or rec.usn < 0:
                continue  # written but not seen by the settle search: read again next time
            people[guid] = rec.to_json()
        data = dict(
            schema=SCHEMA, version=VERSION, scope=self.fingerprint,
            written_at=datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z",
            dc=dict(service_name=end_point["service_name"], invocation_id=end_point["invocation_id"],
                    highest_usn=int(end_point["highest_usn"]), server=end_point.get("server")),
            people=people, people_sha256=_people_digest(people),
        )
        self._ensure_dir()
        _files.atomic_write(self.path, json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8"),
                            mode=0o600)
        return self.path

    def _ensure_dir(self):
        if not os.path.isdir(self.state_dir):
            try:
                os.makedirs(self.state_dir, 0o700)
            except OSError as exc:
                raise _errors.ConfigurationError("cannot create state_dir %s: %s" % (self.state_dir, exc))

    def _remove_file(self):
        try:
            os.unlink(self.path)
        except OSError:
            pass


def _people_digest(people):
    text = json.dumps(people, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
