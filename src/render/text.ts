// User text (scenario names, commands, workload output, a report's strings) made safe for each
// place it is shown: markdown (the comment, the job summary) and the terminal. Every renderer
// imports them from here, so that each escape is defined once.

/**
 * Text from users (scenario names, commands, workload output, and every string of a report that
 * `comment: from-report` posts) must not open HTML, break the table, start a link, reference an
 * issue or @-mention anyone.
 */
export function escapeMarkdown(text: string): string {
  // Backslashes first: the entities added after (&#124;, &#8203;) hold a `#` that must stay as it is.
  return (
    text
      .replace(/([\\`*_[\]()#!~])/g, "\\$1")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/\|/g, "&#124;")
      .replace(/@/g, "@&#8203;")
      // GitHub links `#123` and bare URLs in the rendered text, after escapes are gone: a zero-width
      // space keeps them text.
      .replace(/\\#(?=\d)/g, "#&#8203;")
      .replace(/:\/\//g, ":&#8203;//")
      .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}&#8203;.`)
      .replace(/\r?\n/g, " ")
  );
}

/** Workload-provided text without control characters (no escape sequences reach the terminal). */
export function plain(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}
