// A bounded tail of a stream: the last bytes a workload printed, and a count of them all.

/** Keeps the last `limit` bytes of a stream in a ring buffer and counts them all. */
export class OutputTail {
  private ring: Buffer | undefined;
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    if (this.limit > 0 && chunk.length > 0) {
      this.ring ??= Buffer.alloc(this.limit);
      // Only the part of the chunk that can survive is copied.
      const keep = chunk.length > this.limit ? chunk.subarray(chunk.length - this.limit) : chunk;
      let at = (this.total + chunk.length - keep.length) % this.limit;
      let from = 0;
      while (from < keep.length) {
        const n = Math.min(keep.length - from, this.limit - at);
        this.ring.set(keep.subarray(from, from + n), at);
        from += n;
        at = (at + n) % this.limit;
      }
    }
    this.total += chunk.length;
  }

  text(): string {
    if (!this.ring) return "";
    const held = Math.min(this.total, this.limit);
    const at = this.total % this.limit;
    const bytes =
      held < this.limit
        ? this.ring.subarray(0, held)
        : Buffer.concat([this.ring.subarray(at), this.ring.subarray(0, at)]);
    let start = 0;
    // When bytes were dropped, do not start in the middle of a UTF-8 sequence.
    if (this.total > held) {
      while (start < 3 && start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
    }
    return bytes.subarray(start).toString("utf8");
  }
}
