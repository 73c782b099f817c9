// The budget file's text and shape before the schema sees it: only a regular file of bounded size,
// nesting no deeper than a budget file needs, and no key written twice in one object.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { createScanner, type Node as JsonNode } from "jsonc-parser";
import type { Problem } from "../model/errors.js";
import { BUDGET_FILE_LIMIT } from "../model/limits.js";
import { formatSize } from "../model/units.js";

/** A problem without its place yet: the caller knows the file's lines. */
export type Unplaced = Omit<Problem, "line" | "column"> & { offset: number };

/**
 * A budget file nests four levels (scenarios → name → budget → metric); far past that it is not a
 * budget file, and the parser (recursive) would run out of stack on the way down.
 */
export const MAX_DEPTH = 64;

/**
 * The file's text, or the reason it cannot be a budget file. A FIFO would block the read forever
 * and /dev/zero never ends: anything but a regular file is refused before a byte is read, and no
 * more than BUDGET_FILE_LIMIT bytes (plus one, to tell) are ever read.
 */
export function readBudgetText(
  absolute: string,
): { bytes: Buffer; text: string } | { code: string; fix: string } {
  let fd: number;
  try {
    // stat first: opening a FIFO for reading blocks until a writer comes.
    if (!statSync(absolute).isFile()) return notRegular();
    // O_NONBLOCK in case the path was swapped for a FIFO between the stat and the open.
    fd = openSync(absolute, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return errnoOf(err);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return notRegular();
    if (stat.size > BUDGET_FILE_LIMIT) return tooLarge(stat.size);
    const buffer = Buffer.alloc(BUDGET_FILE_LIMIT + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > BUDGET_FILE_LIMIT) return tooLarge(length);
    }
    const bytes = buffer.subarray(0, length);
    // Decoding would silently turn a byte that is not UTF-8 into U+FFFD, in a command it runs.
    const bad = firstInvalidUtf8(bytes);
    if (bad >= 0) {
      const line = bytes.subarray(0, bad).filter((b) => b === 10).length + 1;
      return {
        code: `not UTF-8 text: byte 0x${bytes[bad]!.toString(16).padStart(2, "0")} on line ${line}`,
        fix: "save the file as UTF-8",
      };
    }
    return { bytes, text: bytes.toString("utf8") };
  } catch (err) {
    return errnoOf(err);
  } finally {
    closeSync(fd);
  }
}

function errnoOf(err: unknown): { code: string; fix: string } {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return code === "ENOENT"
    ? {
        code,
        fix: "write one with `npx membudget init` (it measures your pytest suite, or the commands you name), or pass another file with --budgets",
      }
    : { code, fix: "check the path, and that membudget may read it" };
}

function notRegular(): { code: string; fix: string } {
  return {
    code: "not a regular file",
    fix: "pass the path of a JSON file (not a directory, pipe or device)",
  };
}

function tooLarge(size: number): { code: string; fix: string } {
  return {
    code: `larger than ${formatSize(BUDGET_FILE_LIMIT)}${size > BUDGET_FILE_LIMIT + 1 ? `: ${formatSize(size)}` : ""}`,
    fix: `a budget file is a few kilobytes; split it, or check that this is the file you meant`,
  };
}

/**
 * The first place where objects and arrays nest deeper than MAX_DEPTH, found with the scanner (no
 * recursion, so any depth is safe to look at); undefined when the nesting is fine.
 */
export function tooDeep(text: string): Unplaced | undefined {
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== EOF; token = scanner.scan()) {
    if (token === OPEN_BRACE || token === OPEN_BRACKET) {
      if (++depth > MAX_DEPTH) {
        return {
          pointer: "",
          offset: scanner.getTokenOffset(),
          message: `nested too deeply (more than ${MAX_DEPTH} levels of objects and arrays)`,
          fix: "a budget file nests a few levels: scenarios → name → budget → metric",
        };
      }
    } else if (token === CLOSE_BRACE || token === CLOSE_BRACKET) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot inline.
const OPEN_BRACE = 1;
const CLOSE_BRACE = 2;
const OPEN_BRACKET = 3;
const CLOSE_BRACKET = 4;
const EOF = 17;

/**
 * Keys written twice in one object: JSON parsers keep the last silently, so a second "peakHeap"
 * or a second scenario of the same name would quietly replace the first. Each is a problem at the
 * second occurrence. The tree is walked without recursion.
 */
export function duplicateKeys(
  root: JsonNode,
  pointerOf: (path: string[]) => string,
  placeOf: (offset: number) => string,
): Unplaced[] {
  const problems: Unplaced[] = [];
  const stack: { node: JsonNode; path: string[] }[] = [{ node: root, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (node.type === "array") {
      node.children?.forEach((child, i) => {
        stack.push({ node: child, path: [...path, String(i)] });
      });
      continue;
    }
    if (node.type !== "object") continue;
    const seen = new Map<string, JsonNode>();
    for (const property of node.children ?? []) {
      const [keyNode, value] = property.children ?? [];
      if (!keyNode || typeof keyNode.value !== "string") continue;
      const key = keyNode.value;
      const first = seen.get(key);
      if (first) {
        problems.push({
          pointer: pointerOf([...path, key]),
          offset: keyNode.offset,
          message: `"${key}" is written twice in the same object (first at ${placeOf(first.offset)}); JSON would keep only the last`,
          fix:
            path.length === 1 && path[0] === "scenarios"
              ? "give each scenario its own name, or remove one"
              : `keep one "${key}" and remove the other`,
        });
      } else seen.set(key, keyNode);
      if (value) stack.push({ node: value, path: [...path, key] });
    }
  }
  return problems.sort((a, b) => a.offset - b.offset);
}

/** The offset of the first byte that does not begin or continue a UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i]!;
    const extra =
      c < 0x80
        ? 0
        : c >= 0xc2 && c <= 0xdf
          ? 1
          : c >= 0xe0 && c <= 0xef
            ? 2
            : c >= 0xf0 && c <= 0xf4
              ? 3
              : -1;
    if (extra < 0) return i;
    for (let k = 1; k <= extra; k++) if (i + k >= bytes.length || (bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += extra + 1;
  }
  return -1;
}
