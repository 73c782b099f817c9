// Keeps a session cache of N entries in a Map, as a Node.js service would.
const count = Number(process.argv[2] ?? 100_000);
const sessions = new Map();
for (let i = 0; i < count; i++) {
  sessions.set(`session-${i}`, {
    user: i % 5000,
    created: 1_700_000_000 + i,
    roles: ["reader"],
    token: `t${i.toString(36)}`,
  });
}
console.log(`${sessions.size} sessions cached`);
