from ansible_collections.photosync.ad.plugins.module_utils import _errors


def test_message_names_user_and_hint():
    err = _errors.PermissionDenied("no write property access", user="alice", hint="Grant Write thumbnailPhoto.")
    assert str(err) == "alice: no write property access. Grant Write thumbnailPhoto."


def test_remote_error_keeps_status():
    err = _errors.RemoteServiceError("throttled", status=429)
    assert err.status == 429 and isinstance(err, _errors.SourceError)
