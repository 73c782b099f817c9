// Text that came from a workload or a report, made safe to show: no character that moves the
// cursor, reorders or hides what is around it, or ends a line where the renderer did not put one.

/**
 * C0 and C1 controls but tab and line feed (ESC starts terminal sequences; a lone CR or a form feed
 * ends a markdown line), the soft hyphen, bidirectional marks, embeddings, overrides and isolates
 * (they reorder what a reader sees), zero-width and other invisible characters (they make two
 * different names look alike, or split a word that would otherwise be linked), the line and
 * paragraph separators, and the byte order mark.
 */
const HIDDEN =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff0-\ufffb]/gu;

/** What stands for a hidden character: visible, so that nothing is silently dropped. */
export const REPLACEMENT = "\ufffd";

/**
 * `text` with every hidden character (see HIDDEN) shown as U+FFFD, and CR LF, CR, tabs and
 * (unless `keepLines`) line feeds as spaces or line feeds. Colour sequences (ESC [ … m) are dropped
 * whole: a workload's coloured output reads as its words.
 */
export function showable(text: string, keepLines = false): string {
  const lines = text
    .replace(/\u001b\[[0-9;]*m/g, "")
    .replace(/\r\n?/g, "\n")
    .replace(/\t/g, " ");
  return (keepLines ? lines : lines.replace(/\n/g, " ")).replace(HIDDEN, REPLACEMENT);
}
