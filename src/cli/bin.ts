#!/usr/bin/env node
// The `membudget` executable: runs the CLI's bundle (dist/chunks/cli-<hash>.cjs, whose name the build
// writes here) with the code cache of the command it runs (code-cache.ts).
import { join } from "node:path";
import { loadBundle } from "./code-cache.js";
import { COMMAND_NAMES } from "./command-names.js";

declare const MEMBUDGET_CLI_BUNDLE: string;

const command = process.argv[2] ?? "";
const variant = (COMMAND_NAMES as readonly string[]).includes(command) ? command : "other";
// dist/cli.js is CommonJS (dist/package.json): __dirname is dist/.
const bundle = join(__dirname, MEMBUDGET_CLI_BUNDLE);
const { main } = loadBundle<{ main(args: string[]): Promise<number> }>(bundle, variant);
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
