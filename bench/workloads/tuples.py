# Ground truth for Python's peakHeap: holds N two-item tuples in a list made at its final size.
# CPython 3.11 allocates 56 bytes per tuple (16 GC header + 24 header + 2 × 8 items), 56 for the
# list object and 8 × N for its item array: N × 64 + 56 bytes in all. Up to 2000 tuples come from
# the interpreter's tuple free list (allocated during start-up), so the peak may read up to
# 2000 × 56 = 112,000 bytes lower.
import sys

n = int(sys.argv[1])
items = [None] * n
x = None
for i in range(n):
    items[i] = (x, x)
print(len(items))
