# -*- coding: utf-8 -*-
"""The image option family: spec factory, its doc fragment, and ImageProfile validation."""

import ast
import os
import re

import pytest
import yaml

from ansible_collections.photosync.ad.plugins.doc_fragments import image as fragment
from ansible_collections.photosync.ad.plugins.module_utils import _errors
from ansible_collections.photosync.ad.plugins.module_utils import _image

PLUGINS = os.path.dirname(os.path.dirname(_image.__file__))


def test_spec_and_fragment_describe_the_same_options():
    spec = _image.image_argument_spec()
    doc = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)["options"]
    assert sorted(spec) == sorted(doc)
    for name, entry in spec.items():
        assert doc[name]["type"] == entry["type"], name
        assert doc[name].get("default") == entry.get("default"), name
        assert doc[name].get("choices") == entry.get("choices"), name
        assert doc[name]["description"], name


def test_spec_and_fragment_name_each_other():
    assert "photosync.ad.image" in _image.image_argument_spec.__doc__
    with open(os.path.join(PLUGINS, "doc_fragments", "image.py")) as handle:
        assert "image_argument_spec()" in handle.read()


def test_spec_factory_returns_a_fresh_dict():
    first = _image.image_argument_spec()
    first["max_dimension"]["default"] = 1
    assert _image.image_argument_spec()["max_dimension"]["default"] == 96


def test_spec_defaults_build_the_default_profile():
    params = dict((k, v.get("default")) for k, v in _image.image_argument_spec().items())
    params.update(server="dc1", identity="alice")  # unrelated module options are ignored
    assert _image.ImageProfile.from_params(params) == _image.ImageProfile()


def test_from_params_treats_none_as_default():
    profile = _image.ImageProfile.from_params({"max_dimension": None, "fit": "pad", "background": "black"})
    assert profile.max_dimension == 96 and profile.fit == "pad" and profile.background_rgb == (0, 0, 0)


@pytest.mark.parametrize("kwargs,message", [
    (dict(max_bytes=0), "max_bytes must be between 1 and 102400"),
    (dict(max_bytes=102401), "max_bytes must be between 1 and 102400"),
    (dict(max_dimension=0), "max_dimension"),
    (dict(max_dimension="96"), "max_dimension must be an integer"),
    (dict(max_dimension=True), "max_dimension must be an integer"),
    (dict(fit="stretch"), "fit must be one of contain, cover, pad"),
    (dict(background="not-a-colour"), "not a colour Pillow understands"),
    (dict(background=""), "background must be a colour"),
    (dict(min_quality=0), "min_quality"),
    (dict(max_quality=100), "max_quality must be between 1 and 95"),
    (dict(min_quality=80, max_quality=70), "min_quality (80) must not be greater than max_quality (70)"),
    (dict(max_pixels=0), "max_pixels"),
])
def test_profile_validation(kwargs, message):
    with pytest.raises(_errors.ConfigurationError) as caught:
        _image.ImageProfile(**kwargs)
    assert message in str(caught.value)


def test_background_accepts_what_imagecolor_accepts():
    assert _image.ImageProfile(background="#fff").background_rgb == (255, 255, 255)
    assert _image.ImageProfile(background="rgb(1, 2, 3)").background_rgb == (1, 2, 3)
    assert _image.ImageProfile(background="hsl(0, 100%, 50%)").background_rgb == (255, 0, 0)
    assert _image.ImageProfile(background="#11223344").background_rgb == (0x11, 0x22, 0x33)


def test_profile_equality_and_fingerprint():
    a = _image.ImageProfile(background="white")
    b = _image.ImageProfile(background="#FFFFFF")
    c = _image.ImageProfile(max_bytes=5000)
    assert a == b and hash(a) == hash(b) and a.fingerprint == b.fingerprint
    assert a != c and a.fingerprint != c.fingerprint
    assert re.match(r"^[0-9a-f]{16}$", a.fingerprint)
    assert a.as_dict()["max_bytes"] == 10240


def _python38_violations(path):
    """Syntax the ansible-test sanity run for Python 3.8 would refuse."""
    with open(path) as handle:
        source = handle.read()
    tree = ast.parse(source)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.NamedExpr):
            problems.append("walrus at line %d" % node.lineno)
        if hasattr(ast, "Match") and isinstance(node, ast.Match):
            problems.append("match at line %d" % node.lineno)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in (
                "list", "dict", "tuple", "set", "type"):
            problems.append("builtin generic %s[...] at line %d" % (node.value.id, node.lineno))
        if isinstance(node, ast.JoinedStr):
            problems.append("f-string at line %d (house style: %%-formatting)" % node.lineno)
    for needed in ("from __future__ import absolute_import, division, print_function", "__metaclass__ = type"):
        if needed not in source:
            problems.append("missing %r" % needed)
    return problems


@pytest.mark.parametrize("relative", ["module_utils/_image.py", "doc_fragments/image.py"])
def test_plugin_files_stay_python38_compatible(relative):
    assert _python38_violations(os.path.join(PLUGINS, relative)) == []
