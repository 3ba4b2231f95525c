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
  return readStream(body, limit);
}

/**
 * Reads a whole response when its Content-Length says it fits (Bun then reads it natively, with
 * no stream objects: the common case of a small JSON answer), and as a limited stream otherwise.
 */
export async function readResponseLimited(response: Response, limit: number): Promise<LimitedBody> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (Number.isInteger(declared) && declared >= 0 && declared <= limit && response.headers.get("content-encoding") === null) {
    const bytes = await response.bytes();
    // A server that sent more than it declared is cut to the limit all the same.
    return bytes.byteLength <= limit ? { bytes, complete: true } : { bytes: bytes.subarray(0, limit), complete: false };
  }
  return readLimited(response.body, limit);
}

async function readStream(body: ReadableStream<Uint8Array>, limit: number): Promise<LimitedBody> {
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
