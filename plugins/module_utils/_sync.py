# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile every person in scope: the engine of thumbnail_photo_sync.

A run has two passes over the one path (``_reconcile``):

1. plan: people are read page by page from the directory (their current photo
   comes with the search, so nothing else touches LDAP while the paged search is
   open), the source answers for a chunk of them at a time (``prefetch`` when the
   source has it, else a small worker pool), and ``plan_person`` decides each
   one.  Photo bytes of people who are not in sync go to a private spool folder;
   only small records stay in memory, so memory does not grow with photo sizes.
   A run-wide error (configuration, TLS, authentication, 401/403) stops here,
   before anything was written.
2. apply: unless the circuit breaker (``max_changes``) tripped, every planned
   change is backed up and written with compare-and-swap (``apply_outcome``);
   in check mode only the write right is checked, so check mode reports exactly
   what the real run then does.

Source keys (a file, a URL, an account) that several people resolve to are
written to nobody; files in a photo folder that match nobody are listed.
Everything ends in one result dict and, optionally, reports (``_report``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import math
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.photosync.ad.plugins.module_utils import (
    _cache, _errors, _files, _ldap, _parallel, _reconcile, _tracking)
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser
from ansible_collections.photosync.ad.plugins.module_utils._prefetch import chunks

REPORT_FORMATS = ("json", "html", "junit", "csv")
CHUNK = 100  # people handed to the source at once
DISABLED_FILTER = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"
_MAX_CHANGES_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


def sync_spec():
    """Options of thumbnail_photo_sync besides the ldap, scope, source and image families
    (documented in the module itself)."""
    return dict(
        attribute=dict(type="str", default="thumbnailPhoto", choices=list(_ldap.PHOTO_ATTRIBUTES)),
        force=dict(type="bool", default=False),
        missing_source=dict(type="str", default="keep", choices=list(_reconcile.MISSING_SOURCE)),
        max_changes=dict(type="str"),
        backup_dir=dict(type="path"),
        cache_dir=dict(type="path"),
        state_dir=dict(type="path"),
        verify=dict(type="str", default="changed", choices=["changed", "full"]),
        write_connections=dict(type="int", default=4),
        report_dir=dict(type="path"),
        report_formats=dict(type="list", elements="str", default=["json"], choices=list(REPORT_FORMATS)),
        report_include_photos=dict(type="bool", default=True),
        progress_file=dict(type="path"),
        max_listed=dict(type="int", default=50),
        fail_on_error=dict(type="bool", default=True),
    )


class RunStopped(_errors.PhotoSyncError):
    """The run stopped (a run-wide error, the circuit breaker, or people that failed with fail_on_error).

    ``result`` holds the run's result so far (the module returns it with the failure)."""

    def __init__(self, message, result, hint=None, cause=None):
        super(RunStopped, self).__init__(message, hint=hint)
        self.result = result
        self.cause = cause


# --- options -------------------------------------------------------------------------

def parse_max_changes(value):
    """``"25"`` -> (25, False); ``"10%"`` -> (10.0, True); None/"" -> None."""
    if value is None or str(value).strip() == "":
        return None
    match = _MAX_CHANGES_RE.match(str(value))
    if not match:
        raise _errors.ConfigurationError(
            "max_changes must be a number of people (25) or a percentage of the people in scope (10%%), got %r"
            % (value,))
    number, percent = float(match.group(1)), bool(match.group(2))
    if percent:
        if number > 100:
            raise _errors.ConfigurationError("max_changes %r is more than 100%%" % (value,))
        return number, True
    if number != int(number):
        raise _errors.ConfigurationError("max_changes as a count must be a whole number, got %r" % (value,))
    return int(number), False


def change_limit(max_changes, total):
    """How many changes a run of ``total`` people may make (None: no limit).  Percentages round down."""
    if max_changes is None:
        return None
    number, percent = max_changes
    if percent:
        return int(math.floor(total * number / 100.0 + 1e-9))
    return number


class Options(object):
    """The validated options of one run.  Building one does no I/O."""

    def __init__(self, params, check_mode=False):
        self.attribute = params.get("attribute") or "thumbnailPhoto"
        self.identities = params.get("identities")
        self.identity_type = params.get("identity_type") or "auto"
        self.filter = params.get("filter")
        if self.identities and self.filter:
            raise _errors.ConfigurationError("identities and filter are mutually exclusive")
        self.search_base = params.get("search_base")
        self.scope = params.get("scope") or "subtree"
        self.include_disabled = bool(params.get("include_disabled"))
        self.max_changes = parse_max_changes(params.get("max_changes"))
        self.max_changes_text = params.get("max_changes")
        self.max_listed = params.get("max_listed")
        if self.max_listed is None:
            self.max_listed = 50
        if self.max_listed < 0:
            raise _errors.ConfigurationError("max_listed must be 0 or more, got %d" % self.max_listed)
        self.report_dir = params.get("report_dir")
        self.report_formats = list(params.get("report_formats") or ["json"])
        unknown = [f for f in self.report_formats if f not in REPORT_FORMATS]
        if unknown:
            raise _errors.ConfigurationError("unknown report_formats %s (choose from %s)" % (
                ", ".join(unknown), ", ".join(REPORT_FORMATS)))
        self.report_include_photos = params.get("report_include_photos", True) is not False
        self.progress_file = params.get("progress_file")
        self.cache_dir = params.get("cache_dir")
        self.state_dir = params.get("state_dir")
        self.verify = params.get("verify") or "changed"
        self.write_connections = params.get("write_connections") or 4
        if not 1 <= self.write_connections <= 16:
            raise _errors.ConfigurationError("write_connections must be between 1 and 16, got %d"
                                             % self.write_connections)
        self.fail_on_error = params.get("fail_on_error", True) is not False
        self.policy = _reconcile.Policy(
            "present", self.attribute, bool(params.get("force")), check_mode, params.get("backup_dir"),
            params.get("missing_source") or "keep")

    def describe_scope(self):
        if self.identities:
            return "identities (%d)" % len(self.identities)
        text = "filter %s" % self.filter if self.filter else "every person"
        return "%s under %s (%s%s)" % (text, self.search_base or "the default naming context", self.scope,
                                       ", disabled included" if self.include_disabled else "")


# --- progress, spool and cache ----------------------------------------------------------

def _now():
    return datetime.datetime.utcnow().replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class Progress(object):
    """Rewrites ``path`` atomically as ``{"phase", "processed", "total", "updated_at"}`` while the run goes on
    (at most about once a second, and at every phase change)."""

    def __init__(self, path, interval=1.0):
        self.path = path
        self.interval = interval
        self.phase = None
        self._last = 0.0

    def update(self, phase, processed, total=None, force=False):
        if not self.path:
            return
        now = time.time()
        if not force and phase == self.phase and now - self._last < self.interval:
            return
        self.phase = phase
        self._last = now
        data = dict(phase=phase, processed=processed, total=total, updated_at=_now())
        try:
            folder = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(folder):
                os.makedirs(folder, 0o700)
            _files.atomic_write(os.path.abspath(self.path), (json.dumps(data) + "\n").encode("utf-8"), mode=0o600)
        except (IOError, OSError) as exc:
            raise _errors.ConfigurationError("cannot write progress_file %s: %s" % (self.path, exc.strerror or exc))


class Spool(object):
    """Photo bytes of the people not in sync, on disk in a private folder until the run ends."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="photosync-sync-")
        os.chmod(self.folder, 0o700)

    def put(self, key, values):
        """Store a list of byte strings (or None); returns a handle for ``get``."""
        if values is None:
            return None
        path = os.path.join(self.folder, "%d" % key)
        header = json.dumps([len(v) for v in values]).encode("ascii")
        with open(path, "wb") as handle:
            handle.write(header + b"\n")
            for value in values:
                handle.write(value)
        return path

    def get(self, handle):
        if handle is None:
            return None
        with open(handle, "rb") as stream:
            lengths = json.loads(stream.readline().decode("ascii"))
            return [stream.read(n) for n in lengths]

    def close(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def pillow_version():
    try:
        import PIL
        return PIL.__version__
    except ImportError:  # pragma: no cover - Pillow is required by the module
        return "none"


# --- scope ----------------------------------------------------------------------------------

def _values(raw, attribute):
    for key, values in (raw or {}).items():
        if key.lower() == attribute.lower():
            return [bytes(v) for v in values]
    return []


def _placeholder(identity):
    return DirectoryUser(None, identity, None, None, None, None, None)


def _with_attributes(person, names, raw):
    """``person`` carrying the further attributes a source asked for (a name template's {employeeID})."""
    if not names:
        return person
    values = {}
    for name in names:
        found = _values(raw, name)
        values[name] = found[0].decode("utf-8", "replace") if len(found) == 1 else (
            [v.decode("utf-8", "replace") for v in found] if found else None)
    return person._replace(attributes=values)


def iter_scope(directory, options, extra_attributes=()):
    """Yield (person, current_values, error) for everybody in scope: error is a per-entry PhotoSyncError
    (an identity that matches nobody or several people) or None.  ``extra_attributes`` are read with
    each person (``DirectoryUser.attributes``)."""
    extra = [a for a in extra_attributes if a.lower() not in [u.lower() for u in _ldap.USER_ATTRIBUTES]]
    if options.identities:
        for identity in options.identities:
            try:
                person = directory.resolve(identity, options.identity_type)
                raw = dict((name, directory.read_values(person.dn, name)) for name in extra)
                person = _with_attributes(person, extra, raw)
                yield person, directory.read_values(person.dn, options.attribute), None
            except (_errors.UserNotFound, _errors.AmbiguousIdentity, _errors.ConfigurationError) as exc:
                # This entry's problem (no match, several matches, a malformed name): the others go on.
                exc.user = exc.user or identity
                yield _placeholder(identity), [], exc
        return
    for person, raw in directory.find_users(scope_filter(options), options.search_base, options.scope,
                                            extra_attributes=[options.attribute] + extra):
        yield _with_attributes(person, extra, raw), _values(raw, options.attribute), None


def scope_filter(options):
    """The scope's own LDAP filter (the person filter is added by the search), or None."""
    parts = []
    if options.filter:
        parts.append(options.filter.strip() if options.filter.strip().startswith("(") else "(%s)" % options.filter)
    if not options.include_disabled:
        parts.append(DISABLED_FILTER)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else "(&%s)" % "".join(parts)


def _workers(source):
    client = getattr(source, "client", None)
    settings = getattr(client, "settings", None)
    if isinstance(settings, dict) and settings.get("max_concurrency"):
        return int(settings["max_concurrency"])
    return int(getattr(source, "max_concurrency", 1 if getattr(source, "photo_dir", None) else 4))


def fetch_many(source, people):
    """(person, SourcePhoto | None | PhotoSyncError) for each of ``people``, in any order."""
    prefetch = getattr(source, "prefetch", None)
    if prefetch is not None:
        return prefetch(people)
    workers = _workers(source)
    if workers <= 1 or len(people) <= 1:
        return [(person, _reconcile.fetch(source, person)) for person in people]
    with ThreadPoolExecutor(max_workers=min(workers, len(people))) as pool:
        return list(pool.map(lambda person: (person, _reconcile.fetch(source, person)), people))


def source_stats(source):
    """(retries, seconds waited) of the source's HTTP client, when it has one."""
    stats = getattr(source, "stats", None)
    if callable(stats):
        data = stats() or {}
        return int(data.get("retries") or 0), float(data.get("throttle_wait_seconds") or 0.0)
    http = getattr(getattr(source, "client", None), "http", None)
    waits = list(getattr(getattr(http, "policy", None), "waits", None) or [])
    return len(waits), round(sum(waits), 3)


# --- the run ---------------------------------------------------------------------------------

def _key(person):
    return (person.dn or person.sam_account_name or "").lower()


class Run(object):
    """One sync run; ``run()`` returns the result dict or raises RunStopped."""

    def __init__(self, directory, source, profile, options, report_factory=None):
        self.directory = directory
        self.source = source
        self.profile = profile
        self.options = options
        self.policy = options.policy
        self.report_factory = report_factory
        self.progress = Progress(options.progress_file)
        self.cache = _cache.NormalizeCache(options.cache_dir, profile) if options.cache_dir else None
        self.tracking = None
        self.images = None
        if options.state_dir and not options.identities:
            self.tracking = _tracking.Tracking(directory, options, profile, source, scope_filter(options),
                                               options.state_dir, options.verify, options.policy.check_mode)
        self.records = []
        self.spooled = {}  # index -> (current values handle, desired handle)
        self.started = time.time()
        self.stopped = None

    # -- pass 1 ----------------------------------------------------------------------
    def plan(self, spool):
        with _parallel.ImagePool(self.profile, cache=self.cache) as images:
            self.images = images
            self._plan(spool, images)

    def _plan(self, spool, images):
        processed = 0
        self.progress.update("planning", 0, None, force=True)
        tracking = self.tracking
        wanted = getattr(self.source, "attributes", None)
        extra = list(wanted()) if callable(wanted) else []
        scope = tracking.iter_scope(extra) if tracking is not None else iter_scope(self.directory, self.options, extra)
        for chunk in chunks(scope, CHUNK):
            current = {}
            people = []
            for person, values, error in chunk:
                if error is not None:
                    outcome = _reconcile.Outcome(person, "error").fail("error", error)
                    outcome.run_wide = False
                    self._keep(outcome, spool)
                    continue
                current[_key(person)] = values
                people.append(person)
            if tracking is not None:
                tracking.before_fetch(people)
            try:
                pairs = list(fetch_many(self.source, people))
            except _errors.PhotoSyncError as exc:
                # A source's prefetch raises what would fail for everybody (401/403, TLS, configuration).
                raise _Abort(_reconcile.Outcome(_placeholder(exc.user), "error").fail("error", exc))
            if tracking is not None:
                pairs = list(tracking.observe(pairs))
            normalizer = images.normalizer(pairs, self.source)  # on all cores, through the cache
            for person, fetched in pairs:
                outcome = _reconcile.plan_person(person, current.pop(_key(person), []), fetched, self.profile,
                                                 self.policy, source=self.source, normalizer=normalizer)
                if outcome.run_wide:
                    raise _Abort(outcome)
                self._keep(outcome, spool)
            for key in list(current):  # a source that did not answer for somebody: an error, never "no photo"
                person = next(p for p in people if _key(p) == key)
                exc = _errors.SourceError("the source gave no answer for this person", user=_reconcile.user_name(person))
                self._keep(_reconcile.Outcome(person, "error").fail("error", exc), spool)
            processed += len(chunk)
            self.progress.update("planning", processed)
        if tracking is not None:
            for outcome in tracking.carried():  # nothing moved for them: in sync without a read
                self._keep(outcome, spool)

    def _keep(self, outcome, spool):
        """Keep the small record; move any bytes worth keeping to the spool."""
        index = len(self.records)
        if outcome.status != "in_sync":
            desired = outcome.desired_data
            self.spooled[index] = (spool.put(index * 2, outcome.current_values or None),
                                   spool.put(index * 2 + 1, [desired] if desired is not None else None))
        outcome.release()
        self.records.append(outcome)

    def _load(self, index, outcome, spool):
        current, desired = self.spooled.get(index, (None, None))
        outcome.current_values = spool.get(current) or []
        outcome.current_data = outcome.current_values[0] if outcome.current_values else None
        desired = spool.get(desired)
        outcome.desired_data = desired[0] if desired else None

    # -- source keys ---------------------------------------------------------------------
    def ambiguous_keys(self):
        """Source keys that several people resolved to; those people become errors (nobody gets the photo)."""
        by_origin = {}
        for index, outcome in enumerate(self.records):
            if outcome.origin:
                by_origin.setdefault(outcome.origin, []).append(index)
        ambiguous = []
        for origin, indexes in sorted(by_origin.items()):
            if len(indexes) < 2:
                continue
            ambiguous.append(origin)
            names = ", ".join(sorted(_reconcile.user_name(self.records[i].person) or "?" for i in indexes))
            for i in indexes:
                outcome = self.records[i]
                exc = _errors.SourceError(
                    "the source key %s matches several people (%s); nobody gets it" % (origin, names),
                    user=_reconcile.user_name(outcome.person),
                    hint="Give each person their own photo, or change the name templates so that each key "
                         "matches one person")
                outcome.fail("error", exc, reasons=["ambiguous source key"])
        return ambiguous

    def unmatched_keys(self):
        list_keys = getattr(self.source, "list_keys", None)
        if list_keys is None or self.options.identities:
            return []
        keys = list_keys()
        used = set(o.origin for o in self.records if o.origin)
        left = [key for key in keys if key not in used]
        # Keys and origins are both real paths for a folder source; realpath() (several lstat calls each,
        # seconds at 10,000 people) only for origins given in another form.
        key_set = set(keys)
        other = set(os.path.realpath(o) for o in used if o not in key_set)
        return [key for key in left if os.path.realpath(key) not in other] if other else left

    # -- pass 2 ----------------------------------------------------------------------
    def apply(self, spool):
        changes = [i for i, o in enumerate(self.records) if o.is_change]
        self.progress.update("writing" if not self.policy.check_mode else "checking", 0, len(changes), force=True)
        if not self.policy.check_mode and self.options.write_connections > 1 and len(changes) > 1:
            return self._apply_parallel(spool, changes)
        for done, index in enumerate(changes):
            outcome = self.records[index]
            if self.stopped is not None:
                self._not_attempted(outcome)
                continue
            self._load(index, outcome, spool)
            _reconcile.apply_outcome(self.directory, outcome, self.policy)
            if outcome.run_wide:
                self.stopped = outcome
            outcome.release()
            self.progress.update("writing" if not self.policy.check_mode else "checking", done + 1, len(changes))

    def _not_attempted(self, outcome):
        outcome.fail("error", _errors.PhotoSyncError(
            "not attempted: the run stopped (%s)" % self.stopped.message(),
            user=_reconcile.user_name(outcome.person)), reasons=["not attempted"])

    def _apply_parallel(self, spool, changes):
        """The writes over ``write_connections`` connections of their own, in order, bounded."""
        settings = self.directory.settings

        def connect():
            return _ldap.Directory(settings).connect()

        def pending():
            for index in changes:
                outcome = self.records[index]
                if self.stopped is not None:
                    self._not_attempted(outcome)
                    continue
                self._load(index, outcome, spool)
                yield index, outcome

        def write(directory, outcome):
            # The pool reads ahead of the results: a person queued before the stop was seen is not
            # written after it either.
            if self.stopped is not None:
                self._not_attempted(outcome)
                return None
            result = _reconcile.apply_outcome(directory, outcome, self.policy)
            if outcome.run_wide and self.stopped is None:
                self.stopped = outcome
            return result

        done = 0
        with _parallel.DirectoryPool(connect, self.options.write_connections) as pool:
            for index, dummy, error in pool.map(write, pending()):
                outcome = self.records[index]
                if error is not None:
                    # No connection could be opened for this write: run-wide, and nothing was attempted
                    # for this person.
                    exc = error if isinstance(error, _errors.PhotoSyncError) else _errors.DirectoryError(
                        str(error), user=_reconcile.user_name(outcome.person))
                    exc.run_wide = True
                    if self.stopped is None:
                        outcome.fail("error", exc)
                    else:
                        self._not_attempted(outcome)
                outcome.release()
                if outcome.run_wide and self.stopped is None:
                    self.stopped = outcome
                done += 1
                self.progress.update("writing", done, len(changes))

    # -- results ---------------------------------------------------------------------
    def counts(self):
        counts = dict((status, 0) for status in _reconcile.STATUSES)
        for outcome in self.records:
            counts[outcome.status] += 1
        return counts

    def report(self, spool, summary, run_info):
        if not self.options.report_dir or self.report_factory is None:
            return {}
        writer = self.report_factory(self.options.report_dir, self.options.report_formats, run_info,
                                     self.options.report_include_photos)
        with writer:  # an error half-way leaves the previous reports as they were
            for index, outcome in enumerate(self.records):
                if outcome.status == "in_sync":
                    writer.add(outcome.as_dict())
                    continue
                self._load(index, outcome, spool)
                writer.add(outcome.as_dict(), current_data=outcome.current_data, desired_data=outcome.desired_data)
                outcome.release()
            return writer.finish(summary)

    def run(self):
        spool = Spool()
        try:
            if self.tracking is not None:
                self.tracking.begin()
            try:
                self.plan(spool)
            except _Abort as abort:
                self.progress.update("stopped", len(self.records), None, force=True)
                raise RunStopped(abort.outcome.message(), self.result([], [], None, False),
                                 cause=abort.outcome.exception)
            except _errors.PhotoSyncError as exc:
                # The directory went away while people were being read: nothing was written yet.
                self.progress.update("stopped", len(self.records), None, force=True)
                raise RunStopped("the run stopped while planning, before anything was written: %s" % exc,
                                 self.result([], [], None, False), cause=exc)
            total = len(self.records)
            ambiguous = self.ambiguous_keys()
            unmatched = self.unmatched_keys()
            would_change = sum(1 for o in self.records if o.is_change)
            limit = change_limit(self.options.max_changes, total)
            tripped = limit is not None and would_change > limit
            if not tripped:
                self.apply(spool)
            if self.tracking is not None:
                self.tracking.finish(self.records)
            if self.cache is not None:
                self.cache.prune()
            breaker = dict(limit=limit, would_change=would_change, tripped=tripped)
            result = self.result(unmatched, ambiguous, breaker, True)
            self.progress.update("reporting", total, total, force=True)
            summary = dict(total=total, counts=result["counts"], changed=result["changed"],
                           written=result["written"], unmatched_source_keys=unmatched,
                           ambiguous_source_keys=ambiguous, circuit_breaker=breaker)
            result["reports"] = self.report(spool, summary, self.run_info())
            result["duration_seconds"] = round(time.time() - self.started, 3)
            self.progress.update("done", total, total, force=True)
        finally:
            spool.close()
        self.check_failures(result, breaker)
        return result

    def run_info(self):
        return dict(check_mode=self.policy.check_mode, scope=self.options.describe_scope(),
                    source=self.source.describe(), attribute=self.policy.attribute,
                    profile=self.profile.as_dict(), profile_fingerprint=self.profile.fingerprint,
                    missing_source=self.policy.missing_source, max_changes=self.options.max_changes_text)

    def result(self, unmatched, ambiguous, breaker, complete):
        listed = [o for o in self.records if o.status != "in_sync"]
        written = sum(1 for o in self.records if o.written)
        would = sum(1 for o in self.records if o.is_change)
        tripped = bool(breaker and breaker["tripped"])
        retries, waited = source_stats(self.source)
        changed = written > 0 or (self.policy.check_mode and complete and would > 0 and not tripped)
        result = dict(
            changed=changed, counts=self.counts(), total=len(self.records), written=written,
            not_in_sync=[o.as_dict() for o in listed[:self.options.max_listed]],
            not_in_sync_truncated=len(listed) > self.options.max_listed,
            unmatched_source_keys=unmatched[:self.options.max_listed] if unmatched else [],
            ambiguous_source_keys=ambiguous[:self.options.max_listed] if ambiguous else [],
            reports={}, retries=retries, throttle_wait_seconds=waited,
            circuit_breaker=breaker or dict(limit=change_limit(self.options.max_changes, len(self.records)),
                                            would_change=would, tripped=False),
            duration_seconds=round(time.time() - self.started, 3))
        if self.cache is not None:
            result["cache"] = dict(hits=self.cache.hits, misses=self.cache.misses)
        if self.tracking is not None:
            result["change_tracking"] = self.tracking.result()
        if self.images is not None:
            result["parallel"] = dict(image_workers=self.images.workers, image_mode=self.images.used_mode,
                                      write_connections=self.options.write_connections)
        return result

    def check_failures(self, result, breaker):
        if breaker["tripped"]:
            raise RunStopped(
                "%d people would change, more than max_changes allows (%s = %d of %d people in scope); nothing "
                "was written" % (breaker["would_change"], self.options.max_changes_text, breaker["limit"],
                                 result["total"]),
                result, hint="Look at the people listed in not_in_sync (or the report); if the changes are "
                             "wanted, raise max_changes for this run")
        if self.stopped is not None:
            not_attempted = sum(1 for o in self.records if "not attempted" in o.reasons and not o.written)
            raise RunStopped("the run stopped after %d writes (%d not attempted; each person's status is in "
                             "not_in_sync): %s" % (result["written"], not_attempted, self.stopped.message()),
                             result, cause=self.stopped.exception)
        failed = [o for o in self.records if o.status in _reconcile.PROBLEMS]
        if failed and self.options.fail_on_error:
            raise RunStopped(
                "%d of %d people could not be reconciled (the others were): %s%s" % (
                    len(failed), result["total"], "; ".join(o.message() for o in failed[:3]),
                    "; ..." if len(failed) > 3 else ""),
                result, hint="See not_in_sync for each person's error; set fail_on_error=false to report them "
                             "without failing the task")


class _Abort(Exception):
    def __init__(self, outcome):
        super(_Abort, self).__init__(outcome.message())
        self.outcome = outcome


def report_writer_factory():
    """``_report.ReportWriter`` (loaded on use)."""
    from ansible_collections.photosync.ad.plugins.module_utils import _report  # pylint: disable=import-outside-toplevel
    return _report.ReportWriter
