# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain exceptions of photosync.ad.

Everything below the module shells raises these and nothing else on purpose;
only a module's ``main()`` turns them into ``fail_json``.  Each carries the user
it concerns (when there is one) so a message in a run of thousands still says
whose photo failed, and a ``hint`` that tells the reader what to do next.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class PhotoSyncError(Exception):
    """Base of every error this collection raises on purpose."""

    def __init__(self, message, user=None, hint=None):
        super(PhotoSyncError, self).__init__(message)
        self.message = message
        self.user = user
        self.hint = hint

    def __str__(self):
        text = self.message
        if self.user:
            text = "%s: %s" % (self.user, text)
        if self.hint:
            text = "%s. %s" % (text.rstrip("."), self.hint)
        return text


class ConfigurationError(PhotoSyncError):
    """The options cannot work as given (refused before any network I/O)."""


# --- directory ---------------------------------------------------------------

class DirectoryError(PhotoSyncError):
    """Anything that went wrong talking to the directory."""


class ServerUnreachable(DirectoryError):
    """No server in the list answered."""


class ConnectionLost(DirectoryError):
    """The connection broke or the server stopped answering in the middle of an operation.

    It stops a whole run (``run_wide``): the next person would meet the same dead connection.
    """

    run_wide = True


class TLSFailure(DirectoryError):
    """The TLS handshake failed, usually certificate validation."""


class AuthenticationFailed(DirectoryError):
    """The bind was refused."""


class StrongerAuthRequired(DirectoryError):
    """The server wants transport encryption or signing for this bind."""


class UserNotFound(DirectoryError):
    """An identity matched no object."""


class AmbiguousIdentity(DirectoryError):
    """An identity matched more than one object."""


class PermissionDenied(DirectoryError):
    """The bound account lacks a right on the object."""


class ValueTooLarge(DirectoryError):
    """The directory refused a value over the attribute's size bound."""


class Conflict(DirectoryError):
    """Compare-and-swap failed: someone else changed the value since it was read."""


# --- images ------------------------------------------------------------------

class ImageError(PhotoSyncError):
    """A photo could not be turned into a thumbnail."""


class InvalidImage(ImageError):
    """The bytes are not an image we can read (or are an image of a kind we refuse)."""


class UnsupportedFormat(InvalidImage):
    """A real image format whose decoder is not installed (for example HEIC without pillow-heif)."""


class ImageTooLarge(InvalidImage):
    """Refused as a decompression bomb or over the configured pixel limit."""


# --- sources -----------------------------------------------------------------

class SourceError(PhotoSyncError):
    """A photo source (file, URL, backup, SharePoint, Graph) could not deliver."""


class RemoteServiceError(SourceError):
    """An HTTP service answered with an error.  ``status`` is the HTTP status or None."""

    def __init__(self, message, user=None, hint=None, status=None):
        super(RemoteServiceError, self).__init__(message, user=user, hint=hint)
        self.status = status


class BackupError(PhotoSyncError):
    """A backup could not be written or read; nothing was changed in the directory."""


class ReportError(PhotoSyncError):
    """A drift report could not be written, or a report given to read is not one."""
