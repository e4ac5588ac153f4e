"""bitfold's hardware side: the integer IR and its reference, passes, RTL, estimates, synthesis.

Depends on numpy and amaranth only; never on torch or :mod:`bnn`.
"""
