// The CLI's command names, for the executable, which picks the code cache by command before it
// loads the CLI (a test checks that they are the names main.ts registers).
export const COMMAND_NAMES = ["run", "validate", "check", "compare", "update", "merge", "init"] as const;
