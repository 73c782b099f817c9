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
