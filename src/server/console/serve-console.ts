/**
 * GET /ui/…: the web console (docs/console.md). Its files are public (the page asks for the token
 * and sends it on its own API calls); every answer here, a 404 or a redirect too, carries a strict
 * Content-Security-Policy: scripts and styles only from this origin, no inline script, no eval, no
 * framing, and Trusted Types, so no string can ever reach an HTML sink in the page.
 */
import type { AppContext } from "../context.ts";
import { HttpError } from "../http-error.ts";

/** The policy of every console response. */
export const consoleContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

/** Headers on every console response. */
export const consoleSecurityHeaders: Readonly<Record<string, string>> = {
  "content-security-policy": consoleContentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/**
 * Answers `/ui` (a redirect to `/ui/`) and the files under `/ui/`; `rest` is the path after
 * `/ui`. With `server.ui = false` the console does not exist: the API's own 404.
 */
export async function serveConsole(ctx: AppContext, req: Request, _info: unknown, rest: string): Promise<Response> {
  if (ctx.deps.ui === false) throw new HttpError(404, "not_found_error", "no route /ui/: the console is turned off (server.ui = false)");
  if (rest === "") return new Response(null, { status: 308, headers: { ...consoleSecurityHeaders, location: "ui/" } });
  const { consoleAssets } = await import("./assets.ts");
  const asset = consoleAssets.get(rest);
  if (!asset) {
    return new Response(`no console file /ui${rest}; the console is at /ui/\n`, {
      status: 404,
      headers: { ...consoleSecurityHeaders, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  }
  // Revalidated on every load (same URLs across versions), answered 304 while unchanged.
  const headers = { ...consoleSecurityHeaders, "content-type": asset.contentType, "cache-control": "no-cache", etag: asset.etag };
  if (matchesEtag(req.headers.get("if-none-match"), asset.etag)) return new Response(null, { status: 304, headers });
  return new Response(asset.body, { headers });
}

/** True when an If-None-Match list names `etag` (weak comparison, as RFC 9110 asks for GET). */
function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag);
}
