# The worked example of per-test budgets (README, "Per-test budgets for pytest"): three tests whose
# peak heaps differ by design, judged by budgets.example.json's "pytest-catalog" scenario.
import pytest


def build(rows):
    return [{"sku": i, "name": "item-%d" % i, "price": i * 0.5} for i in range(rows)]


def test_load_catalog():
    # About 50k dicts: a few MiB live at once.
    catalog = build(50_000)
    assert len(catalog) == 50_000


@pytest.mark.limit_memory("4 MB")
def test_lookup_by_sku():
    catalog = {row["sku"]: row for row in build(5_000)}
    assert catalog[42]["name"] == "item-42"


@pytest.mark.parametrize("rows", [10, 1000])
def test_small_pages(rows):
    assert len(build(rows)) == rows
