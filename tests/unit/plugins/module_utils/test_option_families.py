"""Each option family of targets and sources: one spec factory in _sources, one doc fragment, naming each
other and agreeing on every option's name, type, default, choices and elements."""

import inspect

import pytest
import yaml

from ansible_collections.photosync.ad.plugins.doc_fragments import sources as sources_fragment
from ansible_collections.photosync.ad.plugins.doc_fragments import target as target_fragment
from ansible_collections.photosync.ad.plugins.module_utils import _sources

FAMILIES = [
    (target_fragment, "DOCUMENTATION", _sources.target_spec, "photosync.ad.target"),
    (target_fragment, "SCOPE", _sources.scope_spec, "photosync.ad.target.SCOPE"),
    (sources_fragment, "FILE_CLIENT", _sources.file_client_spec, "photosync.ad.sources.FILE_CLIENT"),
    (sources_fragment, "URL_CLIENT", _sources.url_client_spec, "photosync.ad.sources.URL_CLIENT"),
]


@pytest.mark.parametrize("fragment,attr,factory,name", FAMILIES)
def test_fragment_and_spec_agree_and_name_each_other(fragment, attr, factory, name):
    docs = yaml.safe_load(getattr(fragment.ModuleDocFragment, attr))["options"]
    spec = factory()
    assert sorted(docs) == sorted(spec)
    for option, definition in spec.items():
        doc = docs[option]
        assert doc["type"] == definition["type"], option
        assert doc.get("default") == definition.get("default"), option
        assert doc.get("choices") == definition.get("choices"), option
        assert doc.get("elements") == definition.get("elements"), option
        assert bool(doc.get("required")) == bool(definition.get("required")), option
    assert name in inspect.getdoc(factory)
    assert factory.__name__ in inspect.getsource(fragment)


@pytest.mark.parametrize("attr,factory,others", [
    ("DOCUMENTATION", _sources.source_spec, ("FILE_CLIENT", "URL_CLIENT")),
    ("TEMPLATED", _sources.templated_source_spec, ("FILE_CLIENT", "URL_CLIENT")),
])
def test_source_families_are_the_fragment_plus_the_shared_ones(attr, factory, others):
    docs = yaml.safe_load(getattr(sources_fragment.ModuleDocFragment, attr))["options"]
    for other in others:
        docs.update(yaml.safe_load(getattr(sources_fragment.ModuleDocFragment, other))["options"])
    spec = factory()
    remote = set(_sources.sharepoint_spec()) | set(_sources.graph_spec())
    assert sorted(docs) == sorted(set(spec) - remote)
    assert remote <= set(spec)
    for option in docs:
        assert docs[option]["type"] == spec[option]["type"], option
        assert docs[option].get("default") == spec[option].get("default"), option
