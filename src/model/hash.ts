// The hashes membudget names and checks things by: SHA-256 (node:crypto, loaded only when one is
// worked out: a start that needs none does not pay for loading it) and a short non-cryptographic
// one for cache names.
import { createRequire } from "node:module";

/** The SHA-256 of `parts` one after another, in hex. */
export function sha256Hex(parts: (string | Uint8Array)[]): string {
  // A built-in resolves from any base path, which keeps import.meta out of this module (the
  // CommonJS entry points bundle it too). getBuiltinModule is Node.js ≥ 20.16.
  const crypto = (process.getBuiltinModule?.("node:crypto") ??
    createRequire("/")("node:crypto")) as typeof import("node:crypto");
  const hash = crypto.createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

/**
 * 64 bits, in hex, of two FNV-1a hashes over short strings: a name for a set of inputs in a
 * folder of the user's own, which must tell them apart, not resist anyone.
 */
export function shortHash(parts: string[]): string {
  let a = 0x811c9dc5;
  let b = 0x5bd1e995;
  for (const part of parts) {
    const bytes = Buffer.from(part);
    // Each part ends with a 0 byte, so that ["ab", "c"] and ["a", "bc"] differ.
    for (let i = 0; i <= bytes.length; i++) {
      const byte = i < bytes.length ? bytes[i]! : 0;
      a = Math.imul(a ^ byte, 0x01000193);
      b = Math.imul(b ^ byte, 0x01000193) ^ (b >>> 15);
    }
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}
