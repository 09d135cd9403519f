# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module shell repeats, once: building the AnsibleModule, the
dependency guards, and turning a domain exception into a failed result.

Like amazon.aws' ``modules.py``, kept small on purpose::

    module = _module.build(spec, requires=("ldap3", "Pillow"), supports_check_mode=True)
    with _module.failures(module):
        ...                                   # any _errors.PhotoSyncError -> fail_json
    module.exit_json(...)

Only light modules are imported here: the libraries behind ``requires`` are
imported when they are checked, so a task that needs no HTTP stack never loads it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.photosync.ad.plugins.module_utils import _errors

_PREFIX = "ansible_collections.photosync.ad.plugins.module_utils."

# library name (as missing_required_lib shows it) -> (module_utils module, HAS_ flag, import error)
LIBRARIES = {
    "ldap3": ("_ldap", "HAS_LDAP3", "LDAP3_IMPORT_ERROR"),
    "Pillow": ("_image", "HAS_PIL", "PIL_IMPORT_ERROR"),
    "requests": ("_http", "HAS_REQUESTS", "REQUESTS_IMPORT_ERROR"),
}


def build(argument_spec, requires=(), **kwargs):
    """An AnsibleModule for ``argument_spec``; fails with missing_required_lib for any of ``requires``
    that is not installed (after option validation, so option errors come first)."""
    module = AnsibleModule(argument_spec=argument_spec, **kwargs)
    require(module, *requires)
    warn_insecure(module)
    return module


def insecure_options(params, prefix=""):
    """Names of the certificate-validation options that are turned off (``validate_certs``,
    ``url_validate_certs``, ``sharepoint.validate_certs``, ... at any depth of dict options)."""
    found = []
    for name, value in sorted((params or {}).items()):
        if name.startswith("_ansible"):
            continue
        if name.endswith("validate_certs") and value is False:
            found.append(prefix + name)
        elif isinstance(value, dict):
            found.extend(insecure_options(value, prefix + name + "."))
    return found


def warn_insecure(module):
    """Certificates not validated work, but every run says so (a lab setting must not go unnoticed)."""
    for name in insecure_options(module.params):
        module.warn("%s=false: the server's certificate is not validated, so anyone on the network path can "
                    "pose as the server and read the credentials sent to it; use the CA option instead" % name)


def require(module, *libraries):
    """Fail ``module`` unless every library named (keys of LIBRARIES) can be imported."""
    for name in libraries:
        util, flag, error = LIBRARIES[name]
        loaded = importlib.import_module(_PREFIX + util)
        if not getattr(loaded, flag):
            module.fail_json(msg=missing_required_lib(name), exception=getattr(loaded, error))


def hide_secrets(module, source):
    """Keep secrets a source found outside the no_log options (a password written into a URL) out of
    every result and log line."""
    secrets = getattr(source, "secrets", None)
    if callable(secrets):
        module.no_log_values.update(value for value in secrets() if value)


def source_warnings(module, source):
    """Say once what a source noticed about the run as a whole (for example: SharePoint without $batch)."""
    warnings = getattr(source, "warnings", None)
    if callable(warnings):
        for text in warnings():
            module.warn(text)


def fail(module, exc, tb=None, **extra):
    """fail_json for a domain exception: its message (with user and hint), its traceback, its details."""
    details = dict(extra)
    status = getattr(exc, "status", None)
    if status is not None:
        details.setdefault("status", status)
    if tb is None and exc.__traceback__ is not None:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    module.fail_json(msg=str(exc), exception=tb, **details)


@contextlib.contextmanager
def failures(module, **extra):
    """Turn any PhotoSyncError raised inside the block into the module's failed result."""
    try:
        yield
    except _errors.PhotoSyncError as exc:
        fail(module, exc, **extra)
