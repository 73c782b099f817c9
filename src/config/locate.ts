// Places in the budget file: JSON pointers, the parsed node at a path (from an index built once per
// file) and the line and column of an offset.
import type { Node as JsonNode } from "jsonc-parser";

export function splitPointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function pointerOf(path: string[]): string {
  return path.map((p) => `/${p.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

export function locate(
  root: JsonNode,
  path: string[],
  lines: number[],
  key = false,
): { line: number; column: number } {
  let node = nodeAt(root, path);
  if (node && key && node.parent?.type === "property") node = node.parent;
  // Fall back to the nearest existing ancestor.
  for (let n = path.length - 1; !node && n >= 0; n--) node = nodeAt(root, path.slice(0, n));
  return position(lines, node?.offset ?? 0);
}

const nodeIndexes = new WeakMap<JsonNode, Map<string, JsonNode>>();

/**
 * The value at `path`, as findNodeAtLocation finds it (the first of duplicate keys), from an index
 * of every value by its pointer built once per file: findNodeAtLocation scans an object's keys
 * on every call, which made a file of 70,000 unknown keys take minutes to report.
 */
export function nodeAt(root: JsonNode, path: string[]): JsonNode | undefined {
  let index = nodeIndexes.get(root);
  if (!index) {
    index = new Map();
    const stack: [JsonNode, string][] = [[root, ""]];
    while (stack.length > 0) {
      const [node, pointer] = stack.pop()!;
      if (index.has(pointer)) continue;
      index.set(pointer, node);
      const children = node.children ?? [];
      if (node.type === "object") {
        for (let i = children.length - 1; i >= 0; i--) {
          const [key, value] = children[i]!.children ?? [];
          if (key && value && typeof key.value === "string")
            stack.push([value, `${pointer}${pointerOf([key.value])}`]);
        }
      } else if (node.type === "array") {
        for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, `${pointer}/${i}`]);
      }
    }
    nodeIndexes.set(root, index);
  }
  return index.get(pointerOf(path));
}

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}
