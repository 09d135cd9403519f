# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain value types shared by every layer: who a user is, and what a source delivered."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

# A person as found in the directory.  object_guid is the canonical string form
# ("a1b2...-..."), object_sid the "S-1-5-21-..." form; absent values are None.
# attributes: optional {LDAP attribute name: value} of further attributes read for
# this person (for example employeeID for a photo file name template), or None.
DirectoryUser = namedtuple(
    "DirectoryUser",
    ["dn", "sam_account_name", "user_principal_name", "mail", "object_guid", "object_sid", "display_name",
     "attributes"],
    defaults=(None,),
)

# What a source handed over for one user, before normalization.
#   data: the raw bytes; version: a cheap change token when the source has one
#   (HTTP ETag, SharePoint Online ?t=, Graph mediaEtag, file mtime) or None;
#   origin: where it came from, for messages and reports (a path, a URL);
#   content_type: as announced by the source, or None.
SourcePhoto = namedtuple("SourcePhoto", ["data", "version", "origin", "content_type"])
