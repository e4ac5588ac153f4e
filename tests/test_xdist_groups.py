"""``make test`` runs with ``--dist loadgroup``: the tests of an ``xdist_group`` share one worker,
and with it their expensive session fixture (``full_run``). Under pytest-xdist the group shows in
the node id as ``@<group>`` (how xdist's scheduler finds it): a grouped test without it would run
on any worker and build the fixture again there (tests/conftest.py)."""

import os

import pytest


@pytest.mark.xdist_group("xdist_groups_probe")
def test_a_grouped_test_carries_its_group_under_loadgroup(request):
    nodeid = request.node.nodeid
    if os.environ.get("PYTEST_XDIST_WORKER") and request.config.getoption("loadgroup", False):
        assert nodeid.endswith("@xdist_groups_probe"), nodeid
    else:
        assert "@" not in nodeid, nodeid
