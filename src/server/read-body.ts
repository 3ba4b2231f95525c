import { formatSize } from "../util/duration.ts";
import { badRequest, HttpError } from "./http-error.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a JSON request body of at most `maxBytes`. The limit is enforced while reading, so a body
 * without Content-Length (chunked) or with a false one is cut off as soon as it goes over.
 * Any Content-Type is accepted: `curl -d` sends form-urlencoded by default.
 */
export async function readJsonBody(req: Request, maxBytes: number): Promise<unknown> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (req.body === null) throw emptyBody();
  // With a Content-Length the HTTP parser reads exactly that many bytes, so a declared size within
  // the limit can be read natively in one go (no stream objects: the common, small JSON request).
  const bytes = declared !== null ? await req.bytes() : await readLimitedStream(req.body, maxBytes);
  if (bytes.byteLength === 0) throw emptyBody();

  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw badRequest("the request body is not valid UTF-8; send JSON text encoded as UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw badRequest(`the request body is not valid JSON (${detail}); send one JSON object`);
  }
}

/** Reads a body without Content-Length (chunked), cutting it off as soon as it passes `maxBytes`. */
async function readLimitedStream(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : concat(chunks, total);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number): HttpError {
  // Close the connection: the rest of an oversized body is never read.
  return new HttpError(413, "request_too_large", `the request body is larger than the server's max_body of ${formatSize(maxBytes)}; send less`, {
    headers: { connection: "close" },
  });
}

function emptyBody(): HttpError {
  return badRequest('the request body is empty; send a JSON object such as {"input":"What time is it in Tokyo?"}');
}
