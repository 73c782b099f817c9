# MB_TRIVIAL trivial tests (default 2000): the bookkeeping bench runs thousands of them.
import os

import pytest


@pytest.mark.parametrize("n", range(int(os.environ.get("MB_TRIVIAL", "2000"))))
def test_trivial(n):
    assert n >= 0
