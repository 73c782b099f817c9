// The largest and smallest of many numbers, by a loop: Math.max(...values) puts every value on the
// stack and throws RangeError past ~100k of them (a report's timeline can hold that many).

export function largest(values: Iterable<number>): number {
  let out = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > out || Number.isNaN(v)) out = v;
  return out;
}

export function smallest(values: Iterable<number>): number {
  let out = Number.POSITIVE_INFINITY;
  for (const v of values) if (v < out || Number.isNaN(v)) out = v;
  return out;
}
