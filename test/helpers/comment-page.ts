// A pull request comment as a reviewer's browser shows it: GFM through `marked`, styled with
// github-markdown-css, opened in Debian's headless chromium (its DOM after scripts ran, a screenshot).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { marked } from "marked";

/** The little of the DOM the tests read (the project's TypeScript has no DOM library). */
export interface PageElement {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
}

/** The page as a browser's HTML parser builds it (jsdom: the elements are there, no script runs). */
export function parseHtml(html: string): PageElement {
  const { JSDOM } = createRequire(import.meta.url)("jsdom") as {
    JSDOM: new (html: string) => { window: { document: PageElement } };
  };
  return new JSDOM(html).window.document;
}

/** chromium's path, or "" where it is not installed (apt-get install -y chromium). */
export const CHROMIUM = spawnSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).stdout.trim();

/** The comment's markdown as an HTML page; raw HTML in the markdown stays HTML, as marked passes it. */
export function commentPage(markdown: string, title = "membudget comment"): string {
  const css = readFileSync(
    createRequire(import.meta.url).resolve("github-markdown-css/github-markdown-light.css"),
    "utf8",
  );
  const body = marked.parse(markdown, { gfm: true, async: false });
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>${css}
.markdown-body { box-sizing: border-box; max-width: 980px; margin: 0 auto; padding: 32px; }</style></head>
<body><article class="markdown-body">${body}</article></body></html>`;
}

/**
 * Opens the page in headless chromium, lets its scripts run, and returns the DOM as it is then;
 * writes a screenshot to `screenshot` when given.
 */
export function openInChromium(html: string, screenshot?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "membudget-page-"));
  try {
    const page = join(dir, "page.html");
    writeFileSync(page, html);
    const common = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000"];
    const dom = spawnSync(CHROMIUM, [...common, "--dump-dom", page], { encoding: "utf8", timeout: 60_000 });
    if (dom.status !== 0) throw new Error(`chromium failed: ${dom.stderr}`);
    if (screenshot) {
      const shot = spawnSync(
        CHROMIUM,
        [...common, "--window-size=1100,1400", `--screenshot=${screenshot}`, page],
        {
          encoding: "utf8",
          timeout: 60_000,
        },
      );
      if (shot.status !== 0) throw new Error(`chromium failed: ${shot.stderr}`);
    }
    return dom.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The comment as GitHub shows it in a pull request: the conversation's comment body is 780 px wide,
 * light or dark theme, mermaid blocks drawn by mermaid itself (GitHub's own renderer). A script in
 * the page measures the layout once everything is drawn and writes it into `#layout` as JSON:
 * every table cell whose text runs onto a second line, and every table or chart wider than the body.
 */
export function githubPage(markdown: string, options: { dark: boolean; width?: number }): string {
  const require = createRequire(import.meta.url);
  const theme = options.dark ? "github-markdown-dark.css" : "github-markdown-light.css";
  const css = readFileSync(require.resolve(`github-markdown-css/${theme}`), "utf8");
  const mermaid = require.resolve("mermaid/dist/mermaid.min.js");
  const body = marked
    .parse(markdown, { gfm: true, async: false })
    .replace(
      /<pre><code class="language-mermaid">([\s\S]*?)<\/code><\/pre>/g,
      '<pre class="mermaid">$1</pre>',
    );
  const width = options.width ?? 780;
  return `<!doctype html><html><head><meta charset="utf-8"><style>${css}
body { margin: 0; background: ${options.dark ? "#0d1117" : "#ffffff"}; }
.markdown-body { box-sizing: content-box; width: ${width}px; margin: 0; padding: 16px; }
details > * { display: block; }</style>
<script src="file://${mermaid}"></script></head>
<body><article class="markdown-body">${body}</article><pre id="layout"></pre>
<script>
for (const d of document.querySelectorAll("details")) d.open = true;
mermaid.initialize({ startOnLoad: false, theme: ${options.dark ? '"dark"' : '"default"'} });
mermaid.run({ querySelector: ".mermaid" }).finally(() => {
  const article = document.querySelector("article");
  const wrapped = [];
  for (const cell of document.querySelectorAll("td, th")) {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    if (tops.size > 1) wrapped.push(cell.textContent.trim());
  }
  const wide = [...document.querySelectorAll("table, svg")]
    .filter((t) => t.getBoundingClientRect().right > article.getBoundingClientRect().left + ${width} + 16.5)
    .map((t) => t.tagName + ": " + Math.round(t.getBoundingClientRect().width) + " px");
  const tables = [...document.querySelectorAll("table")].map((t) => t.querySelectorAll("tbody tr").length);
  document.getElementById("layout").textContent = JSON.stringify({ wrapped, wide, tables, height: article.scrollHeight });
});
</script></body></html>`;
}

/** The layout `githubPage` measured, from the DOM chromium dumped. */
export function layoutOf(dom: string): {
  wrapped: string[];
  wide: string[];
  tables: number[];
  height: number;
} {
  const text = parseHtml(dom).querySelector("#layout")?.textContent ?? "";
  if (!text) throw new Error("the page did not measure its layout (did mermaid load?)");
  return JSON.parse(text);
}

/** A screenshot of the page at the comment's width (and the measured height). */
export function screenshot(html: string, file: string, height = 1400): string {
  const dir = mkdtempSync(join(tmpdir(), "membudget-page-"));
  try {
    const page = join(dir, "page.html");
    writeFileSync(page, html);
    const common = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--allow-file-access-from-files",
      "--virtual-time-budget=5000",
    ];
    const dom = spawnSync(CHROMIUM, [...common, "--dump-dom", page], { encoding: "utf8", timeout: 90_000 });
    if (dom.status !== 0) throw new Error(`chromium failed: ${dom.stderr}`);
    const shot = spawnSync(
      CHROMIUM,
      [...common, `--window-size=812,${height}`, `--screenshot=${file}`, page],
      {
        encoding: "utf8",
        timeout: 90_000,
      },
    );
    if (shot.status !== 0) throw new Error(`chromium failed: ${shot.stderr}`);
    return dom.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
