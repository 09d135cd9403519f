# -*- coding: utf-8 -*-
"""Pure SharePoint logic: account names, URL encoding, both OData shapes, thumbnail URLs.

The JSON documents below follow the shapes in REFERENCE.md section 4
(verbose: entity under ``d``, collections as ``{"results": [...]}``;
nometadata: entity at top level, collections as plain lists).
"""

from __future__ import absolute_import, division, print_function

import copy

try:
    from urllib.parse import unquote
except ImportError:  # pragma: no cover
    from urllib import unquote

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _sharepoint as sp
from ansible_collections.photosync.ad.plugins.module_utils._errors import ConfigurationError, SourceError
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser


def _user(sam="alice", upn="alice@example.test", mail="alice@example.test", guid="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"):
    return DirectoryUser("CN=%s,OU=People,DC=example,DC=test" % sam, sam, upn, mail, guid, "S-1-5-21-1-2-3-1104",
                         sam.title())


# --- account names -----------------------------------------------------------------

def test_claims_account_onprem_and_online():
    assert sp.claims_account(_user(), "onprem", "EXAMPLE") == "i:0#.w|EXAMPLE\\alice"
    assert sp.claims_account(_user(), "online", "EXAMPLE") == "i:0#.f|membership|alice@example.test"


def test_claims_account_template_uses_directory_values():
    account = sp.claims_account(_user(sam="bob"), "onprem", "EX", template="i:0#.w|{netbios}\\{sAMAccountName}")
    assert account == "i:0#.w|EX\\bob"
    assert sp.claims_account(_user(), "online", None, template="{mail}") == "alice@example.test"


def test_claims_account_template_missing_value_names_user():
    with pytest.raises(SourceError) as err:
        sp.claims_account(_user(mail=None), "online", None, template="i:0#.f|membership|{mail}")
    assert err.value.user == "alice" and "mail" in str(err.value)


def test_claims_account_needs_netbios_onprem():
    with pytest.raises(ConfigurationError):
        sp.claims_account(_user(), "onprem", None)


def test_account_from_name():
    assert sp.account_from_name("EX\\bob", "onprem") == "i:0#.w|EX\\bob"
    assert sp.account_from_name("bob@x.test", "online") == "i:0#.f|membership|bob@x.test"
    assert sp.account_from_name("i:0#.w|EX\\bob", "online") == "i:0#.w|EX\\bob"


@pytest.mark.parametrize("char, encoded", [
    ("#", "%23"), ("|", "%7C"), ("\\", "%5C"), ("%", "%25"), ("+", "%2B"), ("&", "%26"),
])
def test_alias_literal_escapes_each_special_character(char, encoded):
    literal = sp.alias_literal("a%sb" % char)
    assert literal == "'a%sb'" % encoded
    assert char not in literal[1:-1] or char == "%" and literal.count("%") == 1


def test_alias_literal_reference_example():
    # REFERENCE.md: @v='i%3A0%23.w%7CDOMAIN%5Cuser'
    assert sp.alias_literal("i:0#.w|DOMAIN\\user") == "'i%3A0%23.w%7CDOMAIN%5Cuser'"


def test_alias_literal_doubles_quotes_and_round_trips():
    account = "i:0#.w|EX\\o'brien"
    literal = sp.alias_literal(account)
    assert "''" in literal and literal.startswith("'") and literal.endswith("'")
    # what the server sees after URL decoding, and after OData un-doubling
    assert unquote(literal[1:-1]).replace("''", "'") == account


def test_alias_literal_unicode_is_utf8_percent_encoded():
    literal = sp.alias_literal(u"i:0#.f|membership|j\u00fcrgen.\u0141ukasz@example.test")
    assert u"\u00fc" not in literal and "%C3%BC" in literal and "%C5%81" in literal
    assert unquote(literal[1:-1]) == u"i:0#.f|membership|j\u00fcrgen.\u0141ukasz@example.test"


def test_profile_url_shape():
    client = sp.SharePointClient({"site_url": "https://sp.example.test/", "username": "EX\\svc", "password": "pw"})
    url = client.profile_url("i:0#.w|EX\\alice")
    assert url == ("https://sp.example.test/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)"
                   "?@v='i%3A0%23.w%7CEX%5Calice'")


# --- profiles, both shapes -------------------------------------------------------------

PROPS = [
    {"Key": "UserProfile_GUID", "Value": "5c3b7f36-0000-4000-8000-000000000001", "ValueType": "Edm.String"},
    {"Key": "AccountName", "Value": "i:0#.w|EXAMPLE\\alice", "ValueType": "Edm.String"},
    {"Key": "PreferredName", "Value": "Alice Liddell", "ValueType": "Edm.String"},
    {"Key": "PictureURL", "Value": "https://my.example.test/User Photos/Profile Pictures/EXAMPLE_alice_MThumb.jpg",
     "ValueType": "Edm.String"},
    {"Key": "SPS-UserPrincipalName", "Value": "alice@example.test", "ValueType": "Edm.String"},
    {"Key": "WorkEmail", "Value": "alice@example.test", "ValueType": "Edm.String"},
]

VERBOSE_PROFILE = {"d": {
    "__metadata": {"id": "x", "uri": "x", "type": "SP.UserProfiles.PersonProperties"},
    "AccountName": "i:0#.w|EXAMPLE\\alice",
    "DisplayName": "Alice Liddell",
    "Email": "alice@example.test",
    "PictureUrl": "https://my.example.test/User Photos/Profile Pictures/EXAMPLE_alice_MThumb.jpg",
    "PersonalUrl": "https://my.example.test/personal/alice/",
    "UserProfileProperties": {"results": [dict(p, __metadata={"type": "SP.KeyValue"}) for p in PROPS]},
}}

NOMETA_PROFILE = {
    "AccountName": "i:0#.w|EXAMPLE\\alice",
    "DisplayName": "Alice Liddell",
    "Email": "alice@example.test",
    "PictureUrl": "https://my.example.test/User Photos/Profile Pictures/EXAMPLE_alice_MThumb.jpg",
    "UserProfileProperties": PROPS,
}


@pytest.mark.parametrize("doc", [VERBOSE_PROFILE, NOMETA_PROFILE], ids=["verbose", "nometadata"])
def test_parse_profile_both_shapes(doc):
    profile = sp.parse_person_properties(doc)
    assert profile.account == "i:0#.w|EXAMPLE\\alice"
    assert profile.display_name == "Alice Liddell"
    assert profile.upn == "alice@example.test"
    assert profile.picture_url.endswith("/EXAMPLE_alice_MThumb.jpg")
    assert profile.properties["UserProfile_GUID"].startswith("5c3b7f36")


@pytest.mark.parametrize("doc", [VERBOSE_PROFILE, NOMETA_PROFILE], ids=["verbose", "nometadata"])
def test_picture_url_null_but_property_set(doc):
    doc = copy.deepcopy(doc)
    entity = doc.get("d", doc)
    entity["PictureUrl"] = None
    profile = sp.parse_person_properties(doc)
    assert profile.picture_url == "https://my.example.test/User Photos/Profile Pictures/EXAMPLE_alice_MThumb.jpg"


@pytest.mark.parametrize("doc", [VERBOSE_PROFILE, NOMETA_PROFILE], ids=["verbose", "nometadata"])
def test_no_picture_at_all(doc):
    doc = copy.deepcopy(doc)
    entity = doc.get("d", doc)
    entity["PictureUrl"] = None
    props = entity["UserProfileProperties"]
    items = props["results"] if isinstance(props, dict) else props
    for item in items:
        if item["Key"] == "PictureURL":
            item["Value"] = ""
    profile = sp.parse_person_properties(doc)
    assert profile is not None and profile.picture_url is None


@pytest.mark.parametrize("doc", [
    None,
    {"d": None},
    {"odata.null": True},
    {"d": {"GetPropertiesFor": None}},
    # what SharePoint actually answers for an unknown account: an empty PersonProperties
    {"d": {"__metadata": {"type": "SP.UserProfiles.PersonProperties"}, "AccountName": None, "DisplayName": None,
           "PictureUrl": None, "UserProfileProperties": {"results": []}}},
    {"AccountName": None, "PictureUrl": None, "UserProfileProperties": []},
], ids=["none", "d-null", "odata-null", "fn-null", "verbose-empty", "nometadata-empty"])
def test_null_profiles_mean_no_profile(doc):
    assert sp.parse_person_properties(doc) is None


def test_parse_string_value_both_shapes():
    url = "https://my.example.test/User Photos/Profile Pictures/EXAMPLE_alice_MThumb.jpg"
    assert sp.parse_string_value({"d": {"GetUserProfilePropertyFor": url}}) == url
    assert sp.parse_string_value({"value": url}) == url


# --- people search, both shapes ---------------------------------------------------------

def _cells(account, doc_id, picture=None):
    return [
        {"Key": "AccountName", "Value": account, "ValueType": "Edm.String"},
        {"Key": "PreferredName", "Value": account.split("\\")[-1].title(), "ValueType": "Edm.String"},
        {"Key": "WorkEmail", "Value": None, "ValueType": "Null"},
        {"Key": "PictureURL", "Value": picture, "ValueType": "Edm.String" if picture else "Null"},
        {"Key": "DocId", "Value": str(doc_id), "ValueType": "Edm.Int64"},
    ]


def verbose_search(rows, total):
    return {"d": {"query": {"__metadata": {"type": "Microsoft.Office.Server.Search.REST.SearchResult"},
                            "PrimaryQueryResult": {"RelevantResults": {
                                "RowCount": len(rows), "TotalRows": total,
                                "Table": {"Rows": {"results": [
                                    {"Cells": {"results": cells}} for cells in rows]}}}}}}}


def nometa_search(rows, total):
    return {"PrimaryQueryResult": {"RelevantResults": {
        "RowCount": len(rows), "TotalRows": total,
        "Table": {"Rows": [{"Cells": cells} for cells in rows]}}}}


@pytest.mark.parametrize("shape", [verbose_search, nometa_search], ids=["verbose", "nometadata"])
def test_parse_search_results_both_shapes(shape):
    rows = [_cells("i:0#.w|EX\\u%d" % i, 100 + i, picture="https://my/x/EX_u%d_MThumb.jpg" % i if i % 2 else None)
            for i in range(3)]
    parsed, total = sp.parse_search_results(shape(rows, 1200))
    assert total == 1200
    assert [r["AccountName"] for r in parsed] == ["i:0#.w|EX\\u0", "i:0#.w|EX\\u1", "i:0#.w|EX\\u2"]
    assert parsed[1]["PictureURL"] == "https://my/x/EX_u1_MThumb.jpg" and parsed[0]["PictureURL"] is None
    assert parsed[2]["DocId"] == "102"


# --- photo URLs --------------------------------------------------------------------------

@pytest.mark.parametrize("url, size, expected", [
    ("https://my.example.test/User Photos/Profile Pictures/EX_alice_MThumb.jpg", "L",
     "https://my.example.test/User Photos/Profile Pictures/EX_alice_LThumb.jpg"),
    ("https://my.example.test/User%20Photos/Profilbilder/EX_alice_MThumb.jpg", "S",
     "https://my.example.test/User%20Photos/Profilbilder/EX_alice_SThumb.jpg"),
    (u"https://my.example.test/User Photos/Photos de profil/EX_j\u00e9r\u00f4me_MThumb.jpg", "L",
     u"https://my.example.test/User Photos/Photos de profil/EX_j\u00e9r\u00f4me_LThumb.jpg"),
    ("https://contoso-my.sharepoint.com/User Photos/Profile Pictures/1b2c_MThumb.jpg?t=63861234567", "L",
     "https://contoso-my.sharepoint.com/User Photos/Profile Pictures/1b2c_LThumb.jpg?t=63861234567"),
    ("https://my.example.test/User Photos/Profile Pictures/EX_alice_MThumb.jpg", "M",
     "https://my.example.test/User Photos/Profile Pictures/EX_alice_MThumb.jpg"),
    # a folder whose name contains the pattern is left alone; only the file name changes
    ("https://my.example.test/x_MThumb.jpg/EX_bob_mthumb.JPG", "L", "https://my.example.test/x_MThumb.jpg/EX_bob_LThumb.JPG"),
    ("https://cdn.example.test/photos/alice.png", "L", "https://cdn.example.test/photos/alice.png"),
])
def test_thumbnail_url(url, size, expected):
    assert sp.thumbnail_url(url, size) == expected


def test_placeholder_and_version():
    assert sp.is_placeholder("https://sp/_layouts/15/userphoto.aspx?size=L&accountname=EX%5Calice")
    assert not sp.is_placeholder("https://my/User Photos/Profile Pictures/EX_alice_MThumb.jpg")
    assert sp.picture_version("https://x-my.sharepoint.com/U/P/a_MThumb.jpg?t=63861234567") == "63861234567"
    assert sp.picture_version("https://my/U/P/a_MThumb.jpg") is None


def test_picture_location_relative_and_placeholder():
    client = sp.SharePointClient({"site_url": "https://sp.example.test", "mysite_url": "https://my.example.test",
                                  "username": "EX\\svc", "password": "pw"})
    rel = sp.PersonProfile("a", "A", None, "/User Photos/Profile Pictures/EX_a_MThumb.jpg", None, {})
    assert client.picture_location(rel) == "https://my.example.test/User Photos/Profile Pictures/EX_a_MThumb.jpg"
    ph = rel._replace(picture_url="https://sp.example.test/_layouts/15/userphoto.aspx?size=M&accountname=a")
    assert client.picture_location(ph) is None
    assert client.picture_location(None) is None


# --- settings ----------------------------------------------------------------------------

def test_settings_defaults_follow_flavor():
    on = sp.sharepoint_settings({"site_url": "https://sp"})
    assert (on["auth"], on["photo_size"], on["odata"], on["retries"], on["validate_certs"]) == \
        ("ntlm", "L", "verbose", 5, True)
    online = sp.sharepoint_settings({"site_url": "https://t.sharepoint.com", "flavor": "online"})
    assert online["auth"] == "certificate"
    assert sp.sharepoint_settings({"site_url": "https://sp", "token": "abc"})["auth"] == "token"
    with pytest.raises(ConfigurationError):
        sp.sharepoint_settings({"site_url": "https://t.sharepoint.com", "flavor": "online", "auth": "ntlm"})


def test_online_allows_the_my_site_host_only():
    client = sp.SharePointClient({"site_url": "https://contoso.sharepoint.com", "flavor": "online",
                                  "token": "t"})
    assert client.http.allowed_origins == {"https://contoso.sharepoint.com", "https://contoso-my.sharepoint.com"}


def test_spec_and_fragment_name_each_other():
    import inspect
    from ansible_collections.photosync.ad.plugins.doc_fragments import sharepoint as frag
    assert "sharepoint_spec" in inspect.getsource(frag)
    assert "photosync.ad.sharepoint" in inspect.getsource(sp.sharepoint_spec)


@pytest.mark.parametrize("attr, factory", [("DOCUMENTATION", "sharepoint_spec"), ("GRAPH", "graph_spec")])
def test_fragment_matches_spec(attr, factory):
    import yaml
    from ansible_collections.photosync.ad.plugins.doc_fragments.sharepoint import ModuleDocFragment
    from ansible_collections.photosync.ad.plugins.module_utils import _graph
    spec = (sp.sharepoint_spec() if factory == "sharepoint_spec" else _graph.graph_spec())
    (name, opt), = yaml.safe_load(getattr(ModuleDocFragment, attr))["options"].items()
    suboptions, options = opt["suboptions"], spec[name]["options"]
    assert set(suboptions) == set(options)
    for key, doc in suboptions.items():
        assert doc["type"] == options[key]["type"], key
        assert doc.get("default") == options[key].get("default"), key
        assert doc.get("choices") == options[key].get("choices"), key
        assert bool(doc.get("required")) == bool(options[key].get("required")), key
        assert doc["description"], key
    assert all(options[k].get("no_log") for k in options if k in ("password", "token"))


@pytest.mark.parametrize("fragment", ["http_options", "entra"])
def test_shared_suboption_families_are_defined_once(fragment):
    """Issue 9: the HTTP and Entra-app sub-options that sharepoint and graph copied: one spec factory
    and one doc fragment each, naming each other, and both remote options use them."""
    import importlib
    import inspect
    import yaml
    from ansible_collections.photosync.ad.plugins.module_utils import _graph, _http, _msauth
    module = importlib.import_module("ansible_collections.photosync.ad.plugins.doc_fragments." + fragment)
    frag = module.ModuleDocFragment
    spec = _http.http_options_spec() if fragment == "http_options" else _msauth.entra_app_spec("PHOTOSYNC_X")
    docs = yaml.safe_load(frag.suboptions("x", indent=0) if fragment == "http_options" else
                          frag.suboptions("x", "X", "PHOTOSYNC_X", indent=0))
    assert set(docs) == set(spec)
    for key, doc in docs.items():
        assert doc["type"] == spec[key]["type"] and doc.get("default") == spec[key].get("default"), key
    pair = "http_options_spec" if fragment == "http_options" else "entra_app_spec"
    assert pair in inspect.getsource(module)
    owner = _http.http_options_spec if fragment == "http_options" else _msauth.entra_app_spec
    assert "doc_fragments/%s.py" % fragment in inspect.getsource(owner)
    for options in (sp.sharepoint_spec()["sharepoint"]["options"], _graph.graph_spec()["graph"]["options"]):
        for key, value in spec.items():
            if key != "token":
                assert options[key] == value, key
