// Benchmark workload for the Node.js probe: makes COUNT small objects and keeps every 100th
// (argv: COUNT, default 2,000,000), so V8 runs many scavenges and a few full collections: the
// probe's worst case for overhead (it does work per GC).
const count = Number(process.argv[2] ?? 2_000_000);
const kept = [];
for (let i = 0; i < count; i++) {
  const record = { id: i, name: `item-${i}`, tags: [i & 7, i & 3] };
  if (i % 100 === 0) kept.push(record);
}
console.log(kept.length);
