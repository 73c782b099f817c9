#!/usr/bin/env node
// The `membudget` executable: Node's compile cache (as the Action's entry), then the CLI's bundle
// (dist/chunks/cli-<hash>.cjs, whose name the build writes here).
import module from "node:module";
import { join } from "node:path";

declare const MEMBUDGET_CLI_BUNDLE: string;

module.enableCompileCache?.();
// dist/cli.js is CommonJS (dist/package.json): __dirname is dist/.
const { main } = require(join(__dirname, MEMBUDGET_CLI_BUNDLE)) as { main(args: string[]): Promise<number> };
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
