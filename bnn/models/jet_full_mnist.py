"""``jet-full-mnist``: ``jet-mnist`` with the less constrained jet layer (a ±1 coefficient per jet)."""

from .jet_mnist import DEFAULTS, jet_full_mnist

__all__ = ["jet_full_mnist", "DEFAULTS"]
