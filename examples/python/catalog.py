"""Builds an in-memory product catalog, the way services keep one, in one of three layouts.

--layout dicts   one dict per product (the naive way)
--layout slots   one __slots__ object per product (no per-instance __dict__)
--layout arrays  columns in array.array / one list of names (struct-of-arrays)

Memory-lean Python guides recommend the last two; membudget shows by how much.
"""

import argparse
import array


class Product:
    __slots__ = ("sku", "name", "price_cents", "stock")

    def __init__(self, sku, name, price_cents, stock):
        self.sku = sku
        self.name = name
        self.price_cents = price_cents
        self.stock = stock


def build(layout, rows):
    if layout == "dicts":
        return [
            {"sku": i, "name": f"product-{i}", "price_cents": (i * 37) % 10_000, "stock": i % 500}
            for i in range(rows)
        ]
    if layout == "slots":
        return [Product(i, f"product-{i}", (i * 37) % 10_000, i % 500) for i in range(rows)]
    skus = array.array("q", range(rows))
    prices = array.array("q", ((i * 37) % 10_000 for i in range(rows)))
    stock = array.array("i", (i % 500 for i in range(rows)))
    names = [f"product-{i}" for i in range(rows)]
    return skus, names, prices, stock


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layout", choices=["dicts", "slots", "arrays"], default="dicts")
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    catalog = build(args.layout, args.rows)
    print(f"{args.layout}: {args.rows} products built ({type(catalog).__name__})")


if __name__ == "__main__":
    main()
