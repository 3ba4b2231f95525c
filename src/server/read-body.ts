import { formatSize } from "../util/duration.ts";
import { readLimited } from "../util/read-limited.ts";
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
  const bytes = declared !== null ? await req.bytes() : await readChunked(req.body, maxBytes);
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

/** A body without Content-Length (chunked), cut off as soon as it passes `maxBytes`. */
async function readChunked(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const { bytes, complete } = await readLimited(body, maxBytes);
  if (!complete) throw tooLarge(maxBytes);
  return bytes;
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
