// Every relative link in README.md, CONTRIBUTING.md and docs/*.md leads to a file that exists, and to a heading in it.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { anchors, documents, links, ROOT, readDocument } from "./markdown.js";

/**
 * Written by the integrator alongside this change (issue 8, item 1): linked to already, and checked
 * like any other file as soon as it exists. Delete this line once docs/architecture.md is committed.
 */
const PENDING = new Set<string>();

/** What is wrong with a link, or undefined when it resolves. */
function brokenLink(from: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: — not checked offline
  const hash = target.indexOf("#");
  const file = hash < 0 ? target : target.slice(0, hash);
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = file === "" ? from : path.posix.normalize(path.posix.join(path.posix.dirname(from), file));
  if (resolved.startsWith("..")) return `${resolved} is outside the repository`;
  const absolute = path.join(ROOT, resolved);
  if (!existsSync(absolute)) return PENDING.has(resolved) ? undefined : `${resolved} does not exist`;
  if (anchor === undefined || anchor === "") return undefined;
  if (!resolved.endsWith(".md") || statSync(absolute).isDirectory()) return undefined;
  if (!anchors(readDocument(resolved)).has(anchor)) return `${resolved} has no heading #${anchor}`;
  return undefined;
}

describe("relative links in the documentation", () => {
  const files = documents();

  it("covers the README, CONTRIBUTING.md and docs/", () => {
    expect(files).toContain("README.md");
    expect(files).toContain("CONTRIBUTING.md");
    expect(files.filter((f) => f.startsWith("docs/")).length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(`${file}: every relative link resolves`, () => {
      const broken = links(readDocument(file))
        .map((l) => ({ ...l, problem: brokenLink(file, l.target) }))
        .filter((l) => l.problem)
        .map((l) => `${file}:${l.line}: ${l.target}: ${l.problem}`);
      expect(broken).toEqual([]);
    });
  }

  it("sees a missing file and a missing heading (the check is not empty)", () => {
    expect(brokenLink("README.md", "docs/no-such-page.md")).toMatch(/does not exist/);
    expect(brokenLink("README.md", "#no-such-heading")).toMatch(/no heading/);
    expect(brokenLink("README.md", "https://example.com/x")).toBeUndefined();
  });

  it("slugs headings the way GitHub does", () => {
    const slugs = anchors(
      "# A title\n## Pull requests from forks\n### The `comment` input\n## Exit codes\n## Exit codes\n",
    );
    expect([...slugs]).toEqual([
      "a-title",
      "pull-requests-from-forks",
      "the-comment-input",
      "exit-codes",
      "exit-codes-1",
    ]);
  });
});
