/** What was read of a body: at most `limit` bytes, and whether that was all of it. */
export interface LimitedBody {
  readonly bytes: Uint8Array;
  /** False when the body had more than `limit` bytes; the rest was never read. */
  readonly complete: boolean;
}

/**
 * Reads a response body as a stream and stops at `limit` bytes, so a huge or endless answer costs
 * at most `limit` bytes of memory. The stream is cancelled when the limit is hit, which closes
 * the connection instead of draining it.
 */
export async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<LimitedBody> {
  if (body === null) return { bytes: new Uint8Array(0), complete: true };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { bytes: concat(chunks, size), complete: true };
      if (size + value.byteLength > limit) {
        chunks.push(value.subarray(0, limit - size));
        size = limit;
        await reader.cancel().catch(() => {});
        return { bytes: concat(chunks, size), complete: false };
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
