import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "./http-error.ts";

/** Checks `Authorization: Bearer <token>`; build once per process with the expected token. */
export type BearerCheck = (req: Request) => void;

/**
 * A check that throws 401 unless the request carries the token. Both sides are hashed first so
 * the comparison takes the same time whatever the length or content of the guess.
 */
export function bearerCheck(token: string): BearerCheck {
  const expected = digest(token);
  return (req) => {
    const header = req.headers.get("authorization");
    if (header === null) throw unauthorized("missing Authorization header; send Authorization: Bearer <token>");
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized("the Authorization header must be Bearer <token>");
    if (!timingSafeEqual(digest(match[1]!), expected)) throw unauthorized("the bearer token is not valid");
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, "authentication_error", message, { headers: { "www-authenticate": 'Bearer realm="skiff"' } });
}
