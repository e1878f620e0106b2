"""The flat public API: every name in __all__ resolves, and torch loads only on demand."""

import subprocess
import sys

import pytest

import freeenergy as fe
import freeenergy.models


@pytest.mark.parametrize("module", [fe, freeenergy.models])
def test_every_public_name_resolves(module):
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        fe.nope  # noqa: B018


def test_import_does_not_load_torch_until_an_rbm_name_is_used():
    code = ("import sys, freeenergy as fe; a = 'torch' in sys.modules; fe.BernoulliRBM; "
            "print(a, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
