"""The model zoo: names users know from FINN / BNN-PYNQ, one model per file.

Model modules are imported on first use, so listing the zoo does not import torch.
"""

import importlib

from hw.errors import BitfoldError

__all__ = ["MODELS", "build", "defaults"]

_MODULES = {"tfc": "tfc", "sfc": "sfc", "lfc": "lfc", "cnv-mnist": "cnv_mnist", "digits-mlp": "digits_mlp",
            "jet-mnist": "jet_mnist", "jet-full-mnist": "jet_full_mnist", "mst-cnv-mnist": "mst_cnv_mnist"}
MODELS = tuple(_MODULES)


def _module(name):
    if name not in _MODULES:
        raise BitfoldError(f"unknown model {name!r}; the zoo has: {', '.join(MODELS)}")
    return importlib.import_module(f"{__name__}.{_MODULES[name]}")


def build(name: str, **options):
    """Build zoo model ``name``; ``options`` are ``in_shape``, ``classes``, ``input_bits``, ``input_signed``."""
    mod = _module(name)
    return getattr(mod, mod.__all__[0])(**options)


def defaults(name: str) -> dict:
    """The dataset and epoch count a zoo model trains with by default."""
    return dict(_module(name).DEFAULTS)
