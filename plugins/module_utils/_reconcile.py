# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile one person: the one path every photo takes.

``reconcile_person(directory, person, current_values, fetched, profile, policy) -> Outcome``
compares what the directory holds with what the source delivered (after the
image pipeline), and - unless in check mode - backs up the old value and writes
the new one with compare-and-swap.  It never raises for a per-person problem:
the Outcome says what happened (``status``), why (``reasons``, ``error``,
``hint``) and whether the problem makes the whole run pointless (``run_wide``).

It is two steps that a bulk run calls separately (plan everybody first, so a
circuit breaker can stop a run before its first write):
``plan_person(...) -> Outcome`` (no directory I/O) and
``apply_outcome(directory, outcome, policy) -> Outcome``.

thumbnail_photo runs both for one person; thumbnail_photo_sync (``_sync``) runs
them for every person in scope.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import traceback
from collections import namedtuple

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _image

STATUSES = ("in_sync", "add", "update", "remove", "no_source", "conflict", "invalid_source", "error")
CHANGES = ("add", "update", "remove")
# Statuses that mean "this person could not be brought into the declared state".
PROBLEMS = ("conflict", "invalid_source", "error")
MISSING_SOURCE = ("keep", "remove")

# Errors after which every other person would fail the same way: stop the run.
_RUN_WIDE = (_errors.ConfigurationError, _errors.ServerUnreachable, _errors.TLSFailure,
             _errors.AuthenticationFailed, _errors.StrongerAuthRequired)


class Policy(namedtuple("Policy", ["state", "attribute", "force", "check_mode", "backup_dir", "missing_source"])):
    """How to reconcile: state present|absent, the attribute, force (no compare-and-swap), check mode,
    backup_dir (None: no backups), missing_source keep|remove (a person the source has no photo for)."""

    __slots__ = ()

    def __new__(cls, state="present", attribute="thumbnailPhoto", force=False, check_mode=False, backup_dir=None,
                missing_source="keep"):
        if state not in ("present", "absent"):
            raise _errors.ConfigurationError("state must be present or absent, got %r" % (state,))
        if missing_source not in MISSING_SOURCE:
            raise _errors.ConfigurationError("missing_source must be keep or remove, got %r" % (missing_source,))
        return super(Policy, cls).__new__(cls, state, attribute, bool(force), bool(check_mode), backup_dir,
                                          missing_source)


def user_name(user):
    """How messages name a person: logon name, else UPN, else DN."""
    if user is None:
        return None
    return user.sam_account_name or user.user_principal_name or user.dn


def is_run_wide(exc):
    """True when ``exc`` would repeat for everybody (configuration, TLS, authentication, 401/403)."""
    if getattr(exc, "run_wide", False) or getattr(exc, "tls", False):
        return True
    if isinstance(exc, _RUN_WIDE):
        return True
    return isinstance(exc, _errors.RemoteServiceError) and getattr(exc, "status", None) in (401, 403)


def summary(data):
    """What results and reports show of a value: never the bytes themselves."""
    if data is None:
        return None
    info = _image.summarize(data)
    return dict((k, info.get(k)) for k in ("sha256", "bytes", "width", "height", "format"))


class Outcome(object):
    """What reconciling one person found and did.  ``as_dict()`` is the JSON-safe record.

    ``current_data``/``desired_data`` hold bytes for the HTML report only; they are
    never part of ``as_dict()``.  ``exception``/``traceback`` keep the error for a
    module shell that fails on it (thumbnail_photo).
    """

    _DICT_FIELDS = ("status", "reasons", "before", "after", "source", "source_version", "backup_file",
                    "written", "error", "hint")

    def __init__(self, person, status, reasons=None, before=None, after=None, current_data=None,
                 desired_data=None, current_values=None, source=None, source_version=None, origin=None,
                 backup_file=None, written=False, error=None, hint=None, run_wide=False, exception=None,
                 traceback_text=None):
        if status not in STATUSES:
            raise ValueError("unknown status %r" % (status,))
        self.person = person
        self.status = status
        self.reasons = list(reasons or [])
        self.before = before
        self.after = after
        self.current_data = current_data
        self.desired_data = desired_data
        self.current_values = list(current_values or [])
        self.source = source
        self.source_version = source_version
        self.origin = origin  # the source key (file path, URL, account): two people with one key are ambiguous
        self.backup_file = backup_file
        self.written = written
        self.error = error
        self.hint = hint
        self.run_wide = run_wide
        self.exception = exception
        self.traceback = traceback_text
        self._message = None

    def release(self):
        """Drop what a long run must not keep per person: photo bytes, and the exception with its traceback
        (its frames hold the photo bytes too); the message stays."""
        if self.exception is not None:
            self._message = str(self.exception)
        self.exception = self.traceback = None
        self.current_data = self.desired_data = None
        self.current_values = []

    @property
    def is_change(self):
        return self.status in CHANGES

    def fail(self, status, exc, reasons=None, tb=None):
        """Turn this outcome into a failed one carrying ``exc`` (a PhotoSyncError)."""
        self.status = status
        self.error = exc.message if isinstance(exc, _errors.PhotoSyncError) else str(exc)
        self.hint = getattr(exc, "hint", None)
        self.run_wide = is_run_wide(exc)
        self.exception = exc
        self.traceback = tb
        self.written = False
        if reasons is not None:
            self.reasons = list(reasons)
        return self

    def message(self):
        """One line for a failed task: who, what went wrong, what to do."""
        if self.exception is not None:
            return str(self.exception)
        if self._message:
            return self._message
        text = "%s: %s" % (user_name(self.person), self.error or self.status)
        if self.hint:
            text = "%s. %s" % (text.rstrip("."), self.hint)
        return text

    def as_dict(self):
        person = self.person
        record = dict(user=user_name(person), dn=person.dn if person else None,
                      display_name=person.display_name if person else None)
        for name in self._DICT_FIELDS:
            value = getattr(self, name)
            record[name] = list(value) if isinstance(value, list) else value
        return record

    def __repr__(self):
        return "Outcome(%s, %s, %r)" % (user_name(self.person), self.status, self.reasons)


def fetch(source, person):
    """``source.fetch(person)`` with a failure handed back as the exception, never raised."""
    try:
        return source.fetch(person)
    except _errors.PhotoSyncError as exc:
        if exc.user is None:
            exc.user = user_name(person)
        exc.traceback_text = traceback.format_exc()
        return exc


def _describe_source(source):
    return source.describe() if source is not None else None


def _differences(current_values, desired, profile):
    """Why the directory's value(s) are not the desired photo (short phrases for people and reports)."""
    if not current_values:
        return ["no photo set"]
    reasons = []
    if len(current_values) > 1:
        reasons.append("%d values, one wanted" % len(current_values))
    current = current_values[0]
    try:
        info = _image.describe(current, profile)
        reasons.extend(info.reasons)
    except _errors.ImageError as exc:
        reasons.append("current value is not a usable image (%s)" % exc.message)
    except _errors.ConfigurationError:
        pass
    if desired is not None and current != desired and len(reasons) == (1 if len(current_values) > 1 else 0):
        reasons.append("differs from the source photo")
    return reasons


def _error_outcome(person, exc, source, status=None, origin=None):
    outcome = Outcome(person, "error", source=_describe_source(source), origin=origin)
    if status is None:
        status = "invalid_source" if isinstance(exc, _errors.ImageError) else "error"
    return outcome.fail(status, exc, tb=getattr(exc, "traceback_text", None))


def plan_person(person, current_values, fetched, profile, policy, source=None, normalizer=None):
    """Decide what ``person`` needs; no directory I/O.  Returns an Outcome with status
    in_sync | add | update | remove | no_source | invalid_source | error (nothing written yet).

    ``fetched`` is a SourcePhoto, None (the source has no photo for this person) or the
    PhotoSyncError the source raised.  ``source`` (for its description and ``normalize``
    flag) and ``normalizer`` (``bytes -> _image.Photo``, e.g. a cached ``_image.normalize``)
    are optional.
    """
    current_values = [bytes(v) for v in (current_values or [])]
    current = current_values[0] if current_values else None
    described = _describe_source(source)
    if isinstance(fetched, _errors.PhotoSyncError):
        return _error_outcome(person, fetched, source)
    origin = getattr(fetched, "origin", None)
    version = getattr(fetched, "version", None)
    if policy.state == "absent" or fetched is None:
        before = summary(current)
        if policy.state == "present" and policy.missing_source == "keep":
            return Outcome(person, "no_source", reasons=["the source has no photo for this person"],
                           before=before, after=before, current_data=current, current_values=current_values,
                           source=described)
        why = "state=absent" if policy.state == "absent" else "the source has no photo (missing_source=remove)"
        status = "remove" if current_values else "in_sync"
        return Outcome(person, status, reasons=[why] if current_values else [], before=before, after=None,
                       current_data=current, current_values=current_values, source=described)
    try:
        if source is not None and not getattr(source, "normalize", True):
            desired = bytes(fetched.data)
            after = summary(desired)
        else:
            photo = (normalizer or _image.normalize)(fetched.data, profile)
            desired = photo.data
            after = photo.summary()
    except _errors.ImageError as exc:
        # Say whose photo and which source: in a run over many people that is what matters.
        exc.message = "the photo from %s cannot be used: %s" % (described or "the source", exc.message)
        exc.user = exc.user or user_name(person)
        return _image_failure(person, exc, source, origin, version, summary(current), current, current_values)
    except _errors.ConfigurationError as exc:
        # The profile cannot be met for this image (max_bytes too small for it): this person's problem.
        exc.user = exc.user or user_name(person)
        outcome = _error_outcome(person, exc, source, "error", origin)
        outcome.run_wide = False
        return outcome
    if len(current_values) == 1 and current == desired:
        # In sync: the current value is the desired one, so its summary is known without decoding it
        # again (at 10,000 people that decode was a large part of a no-change run).
        status, reasons = "in_sync", []
        before = after
    else:
        before = summary(current)
        status = "update" if current_values else "add"
        reasons = _differences(current_values, desired, profile)
    return Outcome(person, status, reasons=reasons, before=before, after=after, current_data=current,
                   desired_data=desired, current_values=current_values, source=described, source_version=version,
                   origin=origin)


def _image_failure(person, exc, source, origin, version, before, current, current_values):
    outcome = _error_outcome(person, exc, source, "invalid_source", origin)
    outcome.reasons = ["the source photo is not a usable image"]
    outcome.before = before
    outcome.current_data = current
    outcome.current_values = current_values
    outcome.source_version = version
    return outcome


def apply_outcome(directory, outcome, policy):
    """Carry out a planned change (add/update/remove); anything else is returned untouched.

    Check mode writes nothing, backup included, but fails as the real run would if the
    bound account may not write the attribute.  A backup that cannot be written leaves the
    directory untouched (status error).  The write deletes exactly the value(s) read and adds
    the new one in one modify, so a concurrent writer makes this a ``conflict``.
    """
    if not outcome.is_change:
        return outcome
    person = outcome.person
    who = user_name(person)
    try:
        if policy.check_mode:
            directory.check_write_access(person.dn, policy.attribute, user=who)
            return outcome
        if policy.backup_dir and outcome.current_values:
            # Imported here: a task without backups does not compile it (see _remote_options).
            from ansible_collections.photosync.ad.plugins.module_utils import _backup
            desired = outcome.desired_data
            outcome.backup_file = _backup.write_backup(
                policy.backup_dir, person, policy.attribute, outcome.current_values[0],
                hashlib.sha256(desired).hexdigest() if desired is not None else None,
                {"add": "added", "update": "updated", "remove": "removed"}[outcome.status])
        values = outcome.current_values
        expected = values if len(values) > 1 else (values[0] if values else None)
        directory.swap_photo(person.dn, policy.attribute, expected,
                             outcome.desired_data if outcome.status != "remove" else None,
                             force=policy.force, user=who)
        outcome.written = True
    except _errors.Conflict as exc:
        outcome.fail("conflict", exc, tb=traceback.format_exc())
    except _errors.PhotoSyncError as exc:
        outcome.fail("error", exc, tb=traceback.format_exc())
    return outcome


def reconcile_person(directory, person, current_values, fetched, profile, policy, source=None, normalizer=None):
    """Plan and carry out one person's photo; see the module docstring.  Never raises a PhotoSyncError."""
    outcome = plan_person(person, current_values, fetched, profile, policy, source=source, normalizer=normalizer)
    return apply_outcome(directory, outcome, policy)
