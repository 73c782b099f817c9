"""Parses a batch of CSV-like order lines into tuples and aggregates them: allocation churn."""

import argparse
from collections import defaultdict


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=300_000)
    args = parser.parse_args()
    totals = defaultdict(int)
    for i in range(args.lines):
        line = f"{i},customer-{i % 1000},{(i * 13) % 997}"
        order_id, customer, amount = line.split(",")
        totals[customer] += int(amount)
    print(f"{len(totals)} customers, {sum(totals.values())} total")


if __name__ == "__main__":
    main()
