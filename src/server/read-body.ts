import { formatDuration, formatSize } from "../util/duration.ts";
import { readLimited } from "../util/read-limited.ts";
import { badRequest, HttpError } from "./http-error.ts";
import { clientClosedStatus } from "./run-errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** How much of a request body the server takes, and how long it waits for it. */
export interface BodyLimits {
  /** Largest body in bytes (413 above). */
  readonly maxBytes: number;
  /** Time to receive the whole body, in ms; 0: no limit (408 when it passes). */
  readonly timeoutMs: number;
}

/**
 * Reads a JSON request body of at most `maxBytes` within `timeoutMs`. The size limit is enforced
 * while reading, so a body without Content-Length (chunked) or with a false one is cut off as soon
 * as it goes over. A body that is not complete in time (a stalled or dripping client) gets 408 and
 * the connection is closed: while the handler reads, the server's idle timeout is off, so nothing
 * else would ever free it. A client that goes away mid-body gets 499 (logged; nobody receives it).
 * Any Content-Type is accepted: `curl -d` sends form-urlencoded by default.
 */
export async function readJsonBody(req: Request, limits: BodyLimits): Promise<unknown> {
  const { maxBytes } = limits;
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (req.body === null) throw emptyBody();
  // With a Content-Length the HTTP parser reads exactly that many bytes, so a declared size within
  // the limit can be read natively in one go (no stream objects: the common, small JSON request).
  const reading = declared !== null ? req.bytes() : readChunked(req.body, maxBytes);
  const bytes = await withinBodyTimeout(reading, limits.timeoutMs).catch((error: unknown) => {
    throw unreadable(error, req.signal);
  });
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

/** `reading`, or a 408 once `timeoutMs` passes. The abandoned read fails when the connection closes. */
function withinBodyTimeout(reading: Promise<Uint8Array>, timeoutMs: number): Promise<Uint8Array> {
  if (!(timeoutMs > 0)) return reading;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reading.catch(() => {});
      reject(
        new HttpError(408, "timeout_error", `the request body did not arrive within the server's body_timeout of ${formatDuration(timeoutMs)}; send the whole body without pausing`, {
          headers: { connection: "close" },
        }),
      );
    }, timeoutMs);
    reading.then(
      (bytes) => {
        clearTimeout(timer);
        resolve(bytes);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** What a failed read means: our own 4xx passes through; otherwise the client broke off the body. */
function unreadable(error: unknown, signal: AbortSignal): HttpError {
  if (error instanceof HttpError) return error;
  // The connection closed (or a chunked body was malformed): the client's doing, never a bug.
  const gone = signal.aborted || (error instanceof Error && error.name === "AbortError");
  if (gone) return new HttpError(clientClosedStatus, "invalid_request_error", "the client closed the connection before the request body was complete", { cause: error });
  return new HttpError(400, "invalid_request_error", "the request body could not be read to its end; send a complete body", {
    headers: { connection: "close" },
    cause: error,
  });
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
