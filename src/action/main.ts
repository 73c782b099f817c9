// The Action's entry point (wired in the Action issue).
process.stderr.write("membudget action: not wired yet\n");
process.exitCode = 1;
