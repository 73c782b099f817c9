// User text (scenario names, commands, workload output, a report's strings) made safe for each
// place it is shown: markdown (the comment, the job summary) and the terminal. Every renderer
// imports them from here, so that each escape is defined once.

import { showable } from "../model/text.js";

/**
 * Text from users (scenario names, commands, workload output, and every string of a report that
 * `comment: from-report` posts) must not open HTML, break the table, start a link, reference an
 * issue or @-mention anyone.
 */
export function escapeMarkdown(text: string): string {
  // Line breaks of every kind first (a lone CR ends a line too: "ok\r===" would be a heading), and
  // no control, bidirectional or invisible character (showable). Then backslashes: the entities
  // added after (&#124;, &#8203;) hold a `#` that must stay as it is.
  return (
    showable(text)
      // No space at either end (emphasis around a name needs none there; four at the start of a
      // note would be code), and where the text starts a line (a note's "> "), no list or rule.
      .trim()
      .replace(/([\\`*_[\]()#!~])/g, "\\$1")
      .replace(/^[-+=]/, "\\$&")
      .replace(/^(\d+)([.)])/, "$1\\$2")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/\|/g, "&#124;")
      .replace(/@/g, "@&#8203;")
      // GitHub links `#123` and bare URLs in the rendered text, after escapes are gone: a zero-width
      // space keeps them text.
      .replace(/\\#(?=\d)/g, "#&#8203;")
      .replace(/:\/\//g, ":&#8203;//")
      .replace(/www\./gi, (m) => `${m.slice(0, 3)}&#8203;.`)
      // GH-1 links issue 1; a word of 7 to 40 hex digits links the commit it abbreviates: a
      // zero-width space after every sixth digit leaves no run GitHub takes for a SHA.
      .replace(/\b(GH\\?-)(?=\d)/gi, "$1&#8203;")
      .replace(/\b[0-9a-f]{7,}\b/gi, (m) => m.replace(/[0-9a-f]{6}(?=[0-9a-f])/gi, "$&&#8203;"))
  );
}

/**
 * Text from a workload or a report on one line, without control, bidirectional or invisible
 * characters, and cut to a length a terminal line can show (a report's node id can be 60k long).
 */
export function plain(text: string, limit = PLAIN_LIMIT): string {
  const line = showable(text);
  return line.length > limit ? `${line.slice(0, limit - 1)}…` : line;
}

const PLAIN_LIMIT = 500;
/**
 * A note is a sentence membudget wrote, shown whole: the longest, on what a command left running,
 * quotes up to 16 command lines, each cut to 240 characters where it is written (leftovers.ts).
 * A forged report's note is still cut here.
 */
export const NOTE_LIMIT = 5000;
