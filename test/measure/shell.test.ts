// The shell line a command runs as: one simple command becomes `exec <command>`, so that the shell
// turns into the user's program (one process fewer in the tree); anything else stays as written.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnce } from "../../src/measure/process/run.js";
import { shellLine } from "../../src/measure/process/shell.js";

describe("shellLine", () => {
  it("execs one simple command, after its assignments", () => {
    expect(shellLine("python3 scripts/load.py --rows 200000")).toBe(
      "exec python3 scripts/load.py --rows 200000",
    );
    expect(shellLine("FOO=1 BAR=x/y python3 -m pkg.main")).toBe("FOO=1 BAR=x/y exec python3 -m pkg.main");
    expect(shellLine("  node  dist/server.js\t:8080 ")).toBe("exec node dist/server.js :8080");
  });

  it("leaves alone what the shell must run itself: lists, quoting, expansions, redirections, its own words", () => {
    for (const command of [
      "python3 a.py && python3 b.py",
      "python3 a.py; python3 b.py",
      "python3 a.py | tee out",
      "python3 a.py > out.txt",
      "sh -c 'python3 a.py'",
      'python3 -c "print(1)"',
      "echo $HOME",
      "python3 *.py",
      "cd build",
      "export FOO=1",
      "FOO=1",
      "python3 a.py &",
      "python3 a.py\npython3 b.py",
      "~/bin/tool",
    ]) {
      expect(shellLine(command), command).toBe(command);
    }
  });
});

describe("a simple command's process", () => {
  it("is the wrapper's own child, where a list's programs are the shell's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mb-shell-"));
    const script = join(dir, "parent.sh");
    writeFileSync(script, "#!/bin/sh\ncat /proc/$PPID/comm\n", { mode: 0o755 });
    const parentOf = async (command: string) =>
      (await runOnce({ command, cwd: dir, env: process.env, timeoutMs: 30_000 })).stdoutTail.trim();
    expect(await parentOf(script)).toBe("rsswrap");
    expect(await parentOf(`true; ${script}`)).toBe("sh");
  });

  it("fails as the shell's own line did: a missing program is exit 127, named", async () => {
    const outcome = await runOnce({
      command: "membudget-no-such-command --flag",
      cwd: "/",
      env: process.env,
      timeoutMs: 30_000,
    });
    expect(outcome.exitCode).toBe(127);
    expect(outcome.stderrTail).toMatch(/membudget-no-such-command: not found/);
  });
});
