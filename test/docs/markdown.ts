// The project's Markdown documents as the tests read them: which files, their fenced code blocks, links and headings.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import GithubSlugger from "github-slugger";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** README.md, CONTRIBUTING.md and docs/*.md, relative to the repository root. */
export function documents(): string[] {
  const docs = existsSync(path.join(ROOT, "docs"))
    ? readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .sort()
        .map((f) => `docs/${f}`)
    : [];
  return ["README.md", "CONTRIBUTING.md", ...docs].filter((f) => existsSync(path.join(ROOT, f)));
}

export function readDocument(file: string): string {
  return readFileSync(path.join(ROOT, file), "utf8");
}

export interface CodeBlock {
  /** The info string's first word: `yaml`, `sh`, `text`, … (empty when there is none). */
  lang: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The fenced code blocks of a Markdown document (``` or ~~~, closed by a fence at least as long). */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    // A fence may be indented (inside a list item); its content loses that indentation.
    const open = lines[i]!.match(/^( *)(`{3,}|~{3,})\s*([^`\s]*)/);
    if (!open) continue;
    const [, indent, fence, lang] = open as unknown as [string, string, string, string];
    const close = new RegExp(`^ *${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    const body = lines.slice(i + 1, end).map((l) => l.replace(new RegExp(`^ {0,${indent.length}}`), ""));
    blocks.push({ lang: lang.toLowerCase(), body: body.join("\n"), line: i + 1 });
    i = end;
  }
  return blocks;
}

/** The document's lines with its code blocks blanked, so that links and headings inside them are not read. */
function outsideBlocks(markdown: string): string[] {
  const lines = markdown.split("\n");
  for (const block of codeBlocks(markdown)) {
    const bodyLines = block.body === "" ? 0 : block.body.split("\n").length;
    for (let l = block.line - 1; l <= block.line + bodyLines; l++) if (l < lines.length) lines[l] = "";
  }
  return lines;
}

export interface Link {
  target: string;
  line: number;
}

/** Inline links and images, `[text](target)` and `![alt](target "title")`, outside code. */
export function links(markdown: string): Link[] {
  const out: Link[] = [];
  outsideBlocks(markdown)
    .map((l) => l.replace(/(`+)(?:(?!\1).)+\1/g, (m) => " ".repeat(m.length)))
    .forEach((text, i) => {
      for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
        out.push({ target: m[1]!, line: i + 1 });
    });
  return out;
}

/** The anchors GitHub gives the document's headings (`## Pull requests from forks` → `pull-requests-from-forks`). */
export function anchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  const out = new Set<string>();
  for (const line of outsideBlocks(markdown)) {
    const heading = line.match(/^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/);
    // GitHub slugs the heading's rendered text: code and bold markers are not part of it.
    if (heading) out.add(slugger.slug(heading[1]!.replace(/[*`]/g, "")));
  }
  for (const m of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]!);
  return out;
}
