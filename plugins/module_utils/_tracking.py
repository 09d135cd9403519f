# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Change tracking inside a sync run: which people the run reads, which it knows are in sync.

The bookkeeping (state file, decisions) is ``_state``; the directory questions are
``_ldap.dc_change_point`` and ``_ldap.find_changed``.  This module puts them together for
``_sync.Run``:

- ``begin()``: the DC's change point (before anything is read) and the state file decide
  between a full read and an incremental one (``full``, ``reason``).
- ``iter_scope()``: replaces the plain scope search.  Full: every person in scope, with
  ``uSNChanged``.  Incremental: the people whose ``uSNChanged`` moved or who are new
  (one delta search that brings their photo along), people that left the scope are dropped
  (a delta search over the domain, deleted objects included), and every other person of
  the last run is checked against the source: a probe (file size+mtime) when the source
  has one, else the bytes' hash.  Unchanged people come out of ``carried()`` as in-sync
  outcomes without any directory read; changed ones are read by DN and reconciled.
- ``before_fetch()``/``observe()``: the source version and bytes hash of every person
  reconciled this run (probe first, so a file changing meanwhile is read again next time).
- ``finish(records)``: after the writes, the settle search records the run's own writes'
  new ``uSNChanged`` (a photo that is not what was recorded is dropped: read next time),
  then the state file is written.  Never in check mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _ldap, _reconcile, _state
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser, SourcePhoto

try:
    import PIL
    _PILLOW = PIL.__version__
except ImportError:  # pragma: no cover - exercised by the sanity import test
    _PILLOW = None

# Back-links change without the person's uSNChanged moving: a filter on them needs a full read.
_BACKLINK_RE = re.compile(r"\(\s*(memberOf|directReports|managedObjects|msDS-MembersForAzRole)\b", re.IGNORECASE)
_PEOPLE = "(|(objectClass=user)(objectClass=inetOrgPerson))"


def _person_filter(scope_filter):
    if not scope_filter:
        return _ldap.PERSON_FILTER
    text = scope_filter.strip()
    return "(&%s%s)" % (_ldap.PERSON_FILTER, text if text.startswith("(") else "(%s)" % text)


def _values(entry, attribute):
    for key, values in (entry.get("raw_attributes") or {}).items():
        if key.lower() == attribute.lower():
            return [bytes(v) for v in values]
    return []


class Tracking(object):
    """Change tracking for one run.  Building one does no I/O."""

    def __init__(self, directory, options, profile, source, scope_filter, state_dir, verify="changed",
                 check_mode=False):
        self.directory = directory
        self.options = options
        self.source = source
        self.attribute = options.attribute
        self.ldap_filter = _person_filter(scope_filter)
        self.check_mode = check_mode
        self.probe = getattr(source, "probe", None)
        fingerprint = _state.scope_fingerprint(
            search_base=options.search_base, filter=scope_filter, scope=options.scope,
            include_disabled=options.include_disabled, attribute=options.attribute,
            profile=profile.fingerprint, pillow=_PILLOW, missing_source=options.policy.missing_source,
            source=hashlib.sha256(source.describe().encode("utf-8")).hexdigest(),
            normalize=bool(getattr(source, "normalize", True)), probe=self.probe is not None)
        self.tracker = _state.ChangeTracker(state_dir, fingerprint, verify)
        self.extra = []
        self.usns = {}            # guid -> uSNChanged as read this run
        self.versions = {}        # guid -> source version (probe) taken before the fetch
        self.source_hashes = {}   # guid -> sha256 of the source bytes (None: no photo)
        self._carried = []
        self.stats = dict(mode="full", reason=None, read=0, carried=0, source_checked=0, dropped=0)

    @property
    def full(self):
        return self.tracker.full

    def begin(self):
        self.tracker.begin(_ldap.dc_change_point(self.directory))
        if not self.tracker.full and self.options.filter and _BACKLINK_RE.search(self.options.filter):
            self.tracker.full, self.tracker.reason = True, "the filter uses a back-link (memberOf, ...) that " \
                "changes without the person's uSNChanged"
        self.stats.update(mode="full" if self.tracker.full else "incremental", reason=self.tracker.reason)
        return self

    # --- reading -------------------------------------------------------------------------

    def _search(self, min_usn=None):
        attributes = _ldap.USER_ATTRIBUTES + [self.attribute] + self.extra
        return _ldap.find_changed(self.directory, self.ldap_filter, attributes, min_usn=min_usn,
                                  search_base=self.options.search_base, scope=self.options.scope)

    def iter_scope(self, extra_attributes=()):
        """Yield (person, current_values, None) for every person this run must reconcile;
        ``extra_attributes`` are read with each person (``DirectoryUser.attributes``, for name templates)."""
        known = [u.lower() for u in _ldap.USER_ATTRIBUTES]
        self.extra = [a for a in extra_attributes if a.lower() not in known]
        if self.tracker.full:
            for entry in self._search():
                yield self._seen(entry)
            return
        since = self.tracker.since_usn
        changed = []  # (guid, usn) of everybody the delta search returned; the entries themselves stream on
        for entry in self._search(since):
            guid, usn = _ldap.entry_guid(entry), _ldap.entry_usn(entry)
            changed.append((guid, usn))
            record = self.tracker.previous.get(guid)
            if record is None or record.usn != usn:
                yield self._seen(entry)
        base = self.directory.root_dse().get("defaultNamingContext") or self.directory.search_base()
        everywhere = _ldap.find_changed(self.directory, _PEOPLE, [], min_usn=since, search_base=base,
                                        show_deleted=True)
        gone = [_ldap.entry_guid(e) for e in everywhere]
        dummy, carried = self.tracker.partition(changed, gone)  # the people to read were yielded above
        self.stats["dropped"] = len(self.tracker.dropped)
        need_read = self._check_sources(carried)
        for record in need_read:
            person = DirectoryUser(**record.user_fields())
            try:
                values = self.directory.read_values(person.dn, self.attribute)
            except _errors.UserNotFound:
                self.tracker.forget(record.guid)  # gone since: the next full read settles it
                continue
            self.usns[record.guid] = record.usn
            self.stats["read"] += 1
            yield person, values, None

    def _seen(self, entry):
        person = _ldap.entry_to_user(self.directory, entry)
        if self.extra:
            values = {}
            for name in self.extra:
                found = _values(entry, name)
                values[name] = found[0].decode("utf-8", "replace") if len(found) == 1 else (
                    [v.decode("utf-8", "replace") for v in found] if found else None)
            person = person._replace(attributes=values)
        self.usns[person.object_guid] = _ldap.entry_usn(entry)
        self.stats["read"] += 1
        return person, _values(entry, self.attribute), None

    def _check_sources(self, carried):
        """Split the carried records into unchanged (kept as carried outcomes) and changed (returned)."""
        need_read = []
        unchanged = []
        if self.probe is not None:
            for record in carried:
                try:
                    origin, version = self.probe(DirectoryUser(**record.user_fields()))
                except _errors.PhotoSyncError:
                    need_read.append(record)
                    continue
                if (origin is None and _state.ChangeTracker.source_unchanged(record, absent=True)) or \
                        (origin is not None and _state.ChangeTracker.source_unchanged(record, version=version)):
                    unchanged.append((record, origin))
                else:
                    need_read.append(record)
        else:
            from ansible_collections.photosync.ad.plugins.module_utils import _sync  # pylint: disable=import-outside-toplevel
            by_guid = dict((r.guid, r) for r in carried)
            people = [DirectoryUser(**r.user_fields()) for r in carried]
            for start in range(0, len(people), _sync.CHUNK):
                for person, fetched in _sync.fetch_many(self.source, people[start:start + _sync.CHUNK]):
                    record = by_guid[person.object_guid]
                    if isinstance(fetched, SourcePhoto) and \
                            _state.ChangeTracker.source_unchanged(record, data_sha256=_sha(fetched.data)):
                        unchanged.append((record, fetched.origin))
                    elif fetched is None and _state.ChangeTracker.source_unchanged(record, absent=True):
                        unchanged.append((record, None))
                    else:
                        need_read.append(record)
        self.stats["source_checked"] = len(carried)
        self.stats["carried"] = len(unchanged)
        self._carried = unchanged
        return need_read

    def carried(self):
        """In-sync (or no_source) outcomes for the people that did not move: nothing read for them."""
        described = self.source.describe()
        for record, origin in self._carried:
            self.tracker.carry(record)
            reasons = ["the source has no photo for this person"] if record.status == "no_source" else []
            yield _reconcile.Outcome(DirectoryUser(**record.user_fields()), record.status, reasons=reasons,
                                     before=record.photo, after=record.photo, source=described,
                                     source_version=record.source_version, origin=origin)

    # --- what the source said --------------------------------------------------------------

    def before_fetch(self, people):
        """Take each person's source version before the fetch (a change meanwhile shows next run)."""
        if self.probe is None:
            return
        for person in people:
            try:
                self.versions[person.object_guid] = self.probe(person)[1]
            except _errors.PhotoSyncError:
                self.versions[person.object_guid] = None

    def observe(self, pairs):
        """Pass (person, fetched) pairs through, noting the hash of what the source gave."""
        for person, fetched in pairs:
            if isinstance(fetched, SourcePhoto):
                self.source_hashes[person.object_guid] = _sha(fetched.data)
                if self.probe is None:
                    self.versions[person.object_guid] = fetched.version
            elif fetched is None:
                self.source_hashes[person.object_guid] = None
            yield person, fetched

    # --- recording -------------------------------------------------------------------------

    def finish(self, records):
        """Record every settled outcome, settle the run's own writes, write the state file."""
        if self.check_mode or self.tracker.path is None:
            return None
        tracker = self.tracker
        for outcome in records:
            guid = outcome.person.object_guid if outcome.person else None
            if not guid:
                continue
            if guid not in self.usns:
                # Carried from the last run (nothing read): kept unless the run found a problem with it
                # (an ambiguous source key, for one).
                if outcome.status not in ("in_sync", "no_source"):
                    tracker.forget(guid)
                continue
            status = outcome.status
            if status in _reconcile.CHANGES and not outcome.written:
                tracker.forget(guid)
                continue
            tracker.record(guid, self.usns[guid], outcome.person, status,
                           outcome.after if status != "remove" else None,
                           source_version=self.versions.get(guid), source_data_sha256=self.source_hashes.get(guid),
                           written=outcome.written)
        end = _ldap.dc_change_point(self.directory)
        settle = []
        start = tracker.start_point["highest_usn"]
        for entry in _ldap.find_changed(self.directory, self.ldap_filter, [self.attribute], min_usn=start + 1,
                                        search_base=self.options.search_base, scope=self.options.scope):
            values = _values(entry, self.attribute)
            settle.append((_ldap.entry_guid(entry), _ldap.entry_usn(entry),
                           _sha(values[0]) if len(values) == 1 else (None if not values else "several")))
        return tracker.commit(end, settle)

    def result(self):
        return dict(self.stats)


def _sha(data):
    return hashlib.sha256(data).hexdigest()
