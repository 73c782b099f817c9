// Writes the input and output tables of docs/action.md from action.yml, so the two cannot disagree.
// `node scripts/action-docs.mjs` (npm run docs) rewrites them; `--check` only says whether they are current.
import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "yaml";

const args = process.argv.slice(2);
const check = args.includes("--check");
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const actionFile = option("--action", "action.yml");
const docFile = option("--doc", "docs/action.md");

/** A table cell: one line, with the characters that would end the cell escaped. */
const cell = (text) =>
  String(text)
    .trim()
    .replace(/\|/g, "\\|")
    .replace(/\s*\n\s*/g, " ");
const code = (text) => (text === "" ? "(empty)" : `\`${text}\``);

function tables(action) {
  const inputs = Object.entries(action.inputs ?? {}).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.required ? "(required)" : code(String(spec.default ?? ""))} | ${cell(spec.description ?? "")} |`,
  );
  const outputs = Object.entries(action.outputs ?? {}).map(
    ([name, spec]) => `| \`${name}\` | ${cell(spec.description ?? "")} |`,
  );
  return {
    inputs: ["| input | default | meaning |", "|---|---|---|", ...inputs].join("\n"),
    outputs: ["| output | meaning |", "|---|---|", ...outputs].join("\n"),
  };
}

/** The document with the text between each pair of markers replaced by the table. */
function render(doc, action) {
  let out = doc;
  for (const [part, table] of Object.entries(tables(action))) {
    const start = `<!-- ${part}: generated from action.yml by npm run docs -->`;
    const end = `<!-- end of ${part} -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end, from);
    if (from < 0 || to < 0) throw new Error(`${docFile}: the markers "${start}" … "${end}" are missing`);
    out = `${out.slice(0, from + start.length)}\n${table}\n${out.slice(to)}`;
  }
  return out;
}

const doc = readFileSync(docFile, "utf8");
let action;
try {
  action = parse(readFileSync(actionFile, "utf8"));
} catch (e) {
  console.error(`${actionFile}: ${e.message}`);
  process.exit(2);
}
const updated = render(doc, action);
if (updated === doc) {
  console.log(`${docFile}: the tables match ${actionFile}`);
} else if (check) {
  console.error(
    `${docFile}: the input/output tables differ from ${actionFile}: run npm run docs and commit ${docFile}`,
  );
  process.exit(1);
} else {
  writeFileSync(docFile, updated);
  console.log(`${docFile}: tables written from ${actionFile}`);
}
