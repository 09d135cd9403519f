# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Whose photo a task manages.  Paired one-to-one with the spec factories in
    # plugins/module_utils/_sources.py: DOCUMENTATION with target_spec() (one person),
    # SCOPE with scope_spec() (many people); change both together.
    # Use with `extends_documentation_fragment: [photosync.ad.target]` or `[photosync.ad.target.scope]`.

    DOCUMENTATION = r"""
options:
  identity:
    description:
      - The user whose photo this is.
      - A distinguishedName, objectGUID, objectSid, sAMAccountName (V(alice) or V(EXAMPLE\\alice)),
        userPrincipalName or mail address; see O(identity_type).
      - It must match exactly one person, or the task fails naming the matches.
    type: str
    required: true
  identity_type:
    description:
      - What O(identity) is. V(auto) decides by its form; see M(photosync.ad.thumbnail_photo_info).
    type: str
    default: auto
    choices: [auto, dn, objectGUID, objectSid, sAMAccountName, userPrincipalName, mail]
"""

    SCOPE = r"""
options:
  identities:
    description:
      - The people to reconcile, by name. Each is a distinguishedName, objectGUID, objectSid,
        sAMAccountName, userPrincipalName or mail address; see O(identity_type).
      - A name that matches nobody or several people is an V(error) for that entry; the others are
        still reconciled.
      - People named here are taken as given, disabled or not (O(include_disabled) applies to O(filter)).
      - Mutually exclusive with O(filter). Without both, everybody under O(search_base) is in scope.
    type: list
    elements: str
  identity_type:
    description:
      - What the entries of O(identities) are. V(auto) decides per entry by its form.
    type: str
    default: auto
    choices: [auto, dn, objectGUID, objectSid, sAMAccountName, userPrincipalName, mail]
  filter:
    description:
      - An LDAP filter selecting the people in scope under O(search_base), for example
        V((memberOf=CN=Staff,OU=Groups,DC=example,DC=com\)).
      - It is always combined with a filter for person accounts, so computers are never in scope.
      - Without O(filter) and O(identities), every person account under O(search_base) is in scope.
    type: str
  scope:
    description:
      - How deep below O(search_base) people are searched.
    type: str
    default: subtree
    choices: [subtree, onelevel]
  include_disabled:
    description:
      - Also reconcile disabled accounts found by the search. By default they are left out of scope
        (neither counted nor changed).
    type: bool
    default: false
"""
