"""make test runs on two workers with ``--dist loadgroup``: the tests of one ``xdist_group`` (those
of the ``full_run`` fixture, which takes a minute to build) run on one worker, which builds the
group's session fixtures once. pytest 9.2 with pytest-xdist 3.8 silently lost that: the group
suffix xdist puts on node ids no longer sticks, and every group spread over both workers."""

import pytest


@pytest.mark.xdist_group("probe")
def test_a_grouped_test_carries_its_group_under_loadgroup(request):
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not under pytest-xdist --dist loadgroup (make test runs it so)")
    assert request.node.nodeid.endswith("@probe"), request.node.nodeid
