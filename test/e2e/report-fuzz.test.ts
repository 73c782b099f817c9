// A generator of hostile reports (issue 28, item 2), beside the forged report of forged-report.test.ts:
// every string a report carries is filled with pieces chosen to become markup (a lone CR before
// "===", GH-1, bare commit hashes, bidirectional and zero-width characters, ESC sequences, tags,
// links, fences). The comment rendered from it, as GFM in a browser's DOM, must have exactly the
// elements and links of the same report with plain words in those strings, and no text GitHub
// would link or a reader could not see; the terminal gets no control character.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/model/report.js";
import { renderMarkdown } from "../../src/render/markdown.js";
import { renderTerminal } from "../../src/render/terminal.js";
import {
  CHROMIUM,
  commentPage,
  openInChromium,
  type PageElement,
  parseHtml,
} from "../helpers/comment-page.js";
import { MiB, report } from "../helpers/reports.js";

const PIECES = [
  "ok",
  "\r",
  "\r\r",
  "\n",
  "\r\n",
  "===",
  "---",
  "# ",
  "> ",
  "* ",
  "1. ",
  "    ",
  "```",
  "~~~",
  "|",
  "`",
  "\\",
  "GH-1",
  "gh-12",
  "4c1e5d2",
  "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
  "deadbeefcafe",
  "\u202e",
  "\u2066",
  "\u200b",
  "\u200d",
  "\ufeff",
  "\u2028",
  "\u0085",
  "\u000b",
  "\u000c",
  "\u001b[31m",
  "\u001b]8;;https://evil.example\u0007",
  "\u0007",
  "\u0000",
  "<img src=x onerror=alert(1)>",
  "<a href='https://evil.example'>x</a>",
  "</details>",
  "<!--",
  "&lt;b&gt;",
  "&#x3C;b>",
  "[x](https://evil.example)",
  "![i](https://evil.example/i.png)",
  "https://evil.example",
  "www.evil.example",
  "@octocat",
  "#12",
  "o/r#3",
  ":+1:",
  "✅ All clear, merge away",
  "MEMBUDGET SAYS ALL CLEAR",
  " ",
];

const hostile = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }).map((p) => p.join(""));

/** The report's strings, as a tuple: the same shape is rendered with hostile strings and with plain ones. */
const FIELDS = 12;

function build(strings: string[]): Report {
  const s = (i: number) => strings[i % strings.length]!;
  const r = report([
    { name: `a ${s(0)}`, runs: [{ peakHeap: 2 * MiB }], budget: { peakHeap: MiB } },
    { name: `b ${s(1)}`, runs: [{ peakHeap: MiB }], error: s(2) },
    { name: `c ${s(3)}`, runs: [{ peakHeap: MiB }], budget: { peakHeap: 2 * MiB } },
  ]);
  r.summary = s(4);
  r.notes = [`n ${s(5)}`, `n ${s(6)}`];
  r.tool.version = s(7);
  r.environment.os = s(8);
  r.scenarios[0]!.sites = {
    peak: [
      { location: `src/${s(9)}.py:3`, function: s(10), bytes: 2 * MiB, count: 1 },
      { location: `${s(11)}:7`, bytes: MiB },
    ],
  };
  const failed = r.scenarios.find((x) => x.status === "error")!;
  failed.runs[0]!.stderrTail = `${s(2)}\n${s(11)}\n`;
  failed.reason = s(2);
  return r;
}

/** Every element of the comment in document order, with the attributes that can make it act or link. */
function shape(article: PageElement): string[] {
  return Array.from(article.querySelectorAll("*"), (e) => {
    const tag = (e as unknown as { tagName: string }).tagName.toLowerCase();
    const href = e.getAttribute("href");
    const src = e.getAttribute("src");
    return `${tag}${href !== null ? ` href=${href}` : ""}${src !== null ? ` src=${src}` : ""}`;
  });
}

/** Text GitHub would turn into a link or a reader could not see, outside code blocks. */
function dangerousText(article: PageElement): string[] {
  const found: string[] = [];
  for (const pre of Array.from(article.querySelectorAll("pre"))) {
    const text = pre.textContent ?? "";
    if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text))
      found.push(`control or bidi in a code block: ${JSON.stringify(text)}`);
  }
  const clone = article as unknown as {
    cloneNode(deep: boolean): PageElement & { querySelectorAll: PageElement["querySelectorAll"] };
  };
  const copy = clone.cloneNode(true);
  for (const pre of Array.from(copy.querySelectorAll("pre"))) (pre as unknown as { remove(): void }).remove();
  const text = copy.textContent ?? "";
  const checks: [RegExp, string][] = [
    [/\bGH-\d/i, "a GH- reference"],
    [/\b[0-9a-f]{7,40}\b/i, "a commit hash"],
    [/@[a-z0-9]/i, "a mention"],
    [/(^|[^\w])#\d/, "an issue reference"],
    [/https?:\/\/|www\.[a-z]/i, "a bare URL"],
    [/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, "a control character"],
    [/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/, "a bidirectional character"],
    [/\u200c|\u200d|\u2060|\ufeff|\u2028|\u2029/, "an invisible character"],
  ];
  for (const [re, what] of checks) {
    const m = re.exec(text);
    if (m) found.push(`${what}: ${JSON.stringify(text.slice(Math.max(0, m.index - 20), m.index + 40))}`);
  }
  return found;
}

const PLAIN = Array.from({ length: FIELDS }, (_, i) => `w${"xyz"[i % 3]}`);

describe("hostile reports render as membudget's own markup only", () => {
  const plainShape = shape(parseHtml(commentPage(renderMarkdown(build(PLAIN)))).querySelector("article")!);

  it("GFM of the comment: the same elements and links as the plain report, no linkable or hidden text", () => {
    fc.assert(
      fc.property(fc.array(hostile, { minLength: FIELDS, maxLength: FIELDS }), (strings) => {
        const md = renderMarkdown(build(strings));
        const article = parseHtml(commentPage(md)).querySelector("article")!;
        expect(shape(article)).toEqual(plainShape);
        expect(dangerousText(article)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("the issue's reproductions: a note and a file name that end a line with a lone CR", () => {
    const note = "ok\r\r✅ All clear, merge away\r===";
    const file = "m\r\rMEMBUDGET SAYS ALL CLEAR\r===\r.py";
    const strings = [...PLAIN];
    strings[5] = note;
    strings[9] = file;
    const article = parseHtml(commentPage(renderMarkdown(build(strings)))).querySelector("article")!;
    expect(shape(article)).toEqual(plainShape);
    expect(article.querySelectorAll("h1, h2").length).toBe(0);
    expect(article.textContent).toContain("MEMBUDGET SAYS ALL CLEAR");
  });

  it("the terminal shows no control, bidirectional or invisible character from a report", () => {
    fc.assert(
      fc.property(fc.array(hostile, { minLength: FIELDS, maxLength: FIELDS }), (strings) => {
        const out = renderTerminal(build(strings), { colour: false, all: true });
        expect(out).not.toMatch(
          /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff\u2028\u2029]/,
        );
      }),
      { numRuns: 200 },
    );
  });

  it.skipIf(!CHROMIUM)(
    "in Chromium too: a few hostile comments have the plain report's elements and links",
    () => {
      const samples = fc.sample(fc.array(hostile, { minLength: FIELDS, maxLength: FIELDS }), {
        numRuns: 4,
        seed: 28,
      });
      const plainDom = parseHtml(openInChromium(commentPage(renderMarkdown(build(PLAIN))))).querySelector(
        "article",
      )!;
      for (const strings of samples) {
        const dom = parseHtml(openInChromium(commentPage(renderMarkdown(build(strings))))).querySelector(
          "article",
        )!;
        expect(shape(dom)).toEqual(shape(plainDom));
        expect(dangerousText(dom)).toEqual([]);
      }
    },
  );
});
