import { createHash } from "node:crypto";
import { HttpError, type HttpErrorOptions } from "./http-error.ts";

/**
 * The bearer credential of a request (`Authorization: Bearer <token>`); 401 when the header is
 * missing or is not of that form. The credential itself never appears in an error.
 */
export function bearerOf(req: Request): string {
  const header = req.headers.get("authorization");
  if (header === null) throw unauthorized("missing Authorization header; send Authorization: Bearer <token>");
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized("the Authorization header must be Bearer <token>");
  return match[1]!;
}

/** SHA-256 of a credential: compared in constant time, or looked up by hash. */
export function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** The 401 every authentication failure answers, with the challenge clients expect. */
export function unauthorized(message: string, options: Omit<HttpErrorOptions, "headers"> = {}): HttpError {
  return new HttpError(401, "authentication_error", message, { ...options, headers: { "www-authenticate": 'Bearer realm="skiff"' } });
}
