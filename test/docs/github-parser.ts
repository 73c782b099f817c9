// GitHub's own action.yml and workflow parsers (@actions/workflow-parser), loaded for the tests, with the plain data they read.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ActionTemplate } from "@actions/workflow-parser/actions/index";
import type { WorkflowTemplate } from "@actions/workflow-parser/index";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

type ParserModule = typeof import("@actions/workflow-parser/index") &
  typeof import("@actions/workflow-parser/actions/index");

let loading: Promise<ParserModule> | undefined;

/**
 * The package imports its schema JSON without `with { type: "json" }`, which Node's ESM loader (and so
 * vitest, which leaves node_modules to Node) refuses with ERR_IMPORT_ATTRIBUTE_MISSING. esbuild inlines
 * the JSON into one module, which is then imported as is: the parser's own code, unchanged.
 */
function loadParser(): Promise<ParserModule> {
  loading ??= (async () => {
    const result = await build({
      stdin: {
        contents:
          'export * from "@actions/workflow-parser";\nexport * from "@actions/workflow-parser/actions/index";\n',
        resolveDir: ROOT,
        loader: "js",
      },
      bundle: true,
      format: "esm",
      platform: "node",
      write: false,
      logLevel: "silent",
    });
    const file = path.join(mkdtempSync(path.join(tmpdir(), "membudget-workflow-parser-")), "parser.mjs");
    writeFileSync(file, result.outputFiles[0]!.text);
    return (await import(pathToFileURL(file).href)) as ParserModule;
  })();
  return loading;
}

/** A YAML value as plain data; an expression stays its source text, e.g. "${{ github.token }}". */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

async function plain(token: TemplateToken | undefined): Promise<Plain> {
  const p = await loadParser();
  const walk = (t: TemplateToken | undefined): Plain => {
    if (t === undefined) return null;
    if (p.isMapping(t)) {
      const out: Record<string, Plain> = {};
      for (const { key, value } of t) out[key.toString()] = walk(value);
      return out;
    }
    if (p.isSequence(t)) {
      const out: Plain[] = [];
      for (let i = 0; i < t.count; i++) out.push(walk(t.get(i)));
      return out;
    }
    if (p.isString(t) || p.isNumber(t) || p.isBoolean(t)) return t.value;
    if (p.isBasicExpression(t)) return t.toDisplayString();
    if (p.isLiteral(t)) return null; // the null token
    if (p.isScalar(t)) return t.toString();
    throw new Error(`unexpected token ${t.typeName()}`);
  };
  return walk(token);
}

/** One problem GitHub's parser found, as `file (line N, col M): message`. */
function messages(errors: { message: string }[]): string[] {
  return errors.map((e) => e.message);
}

export interface ParsedAction {
  errors: string[];
  /** What GitHub makes of the file (undefined when it did not get that far). */
  template: ActionTemplate | undefined;
  /** The file as plain data. */
  data: Plain;
}

/** action.yml through `parseAction` + `convertActionTemplate`, as the runner and the marketplace read it. */
export async function parseActionFile(name: string, content: string): Promise<ParsedAction> {
  const p = await loadParser();
  const result = p.parseAction({ name, content }, new p.NoOperationTraceWriter());
  let template: ActionTemplate | undefined;
  if (result.value) template = p.convertActionTemplate(result.context, result.value);
  return { errors: messages(result.context.errors.getErrors()), template, data: await plain(result.value) };
}

export interface ParsedWorkflow {
  errors: string[];
  template: WorkflowTemplate | undefined;
  data: Plain;
}

/** A workflow through `parseWorkflow` + `convertWorkflowTemplate`, as GitHub reads it on a push. */
export async function parseWorkflowFile(name: string, content: string): Promise<ParsedWorkflow> {
  const p = await loadParser();
  const result = p.parseWorkflow({ name, content }, new p.NoOperationTraceWriter());
  let template: WorkflowTemplate | undefined;
  if (result.value) template = await p.convertWorkflowTemplate(result.context, result.value);
  const errors = [
    ...messages(result.context.errors.getErrors()),
    ...(template?.errors ?? []).map((e) => e.Message),
  ];
  return { errors: [...new Set(errors)], template, data: await plain(result.value) };
}

/** An input's default as action.yml writes it: a literal, or an expression the runner evaluates. */
export type InputDefault = { literal: string } | { expression: string };

/** action.yml's declared inputs in order, each with its default (an input without one defaults to ""). */
export async function actionInputs(name: string, content: string): Promise<Map<string, InputDefault>> {
  const p = await loadParser();
  const { errors, template } = await parseActionFile(name, content);
  if (errors.length > 0 || !template)
    throw new Error(`${name}: GitHub's parser rejects it:\n${errors.join("\n")}`);
  const inputs = new Map<string, InputDefault>();
  for (const input of template.inputs ?? []) {
    const d = input.default;
    if (d === undefined) inputs.set(input.id, { literal: "" });
    else if (p.isBasicExpression(d)) inputs.set(input.id, { expression: d.expression });
    else inputs.set(input.id, { literal: d.toString() });
  }
  return inputs;
}
