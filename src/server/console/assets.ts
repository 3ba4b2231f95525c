/**
 * The console's files, embedded: the macro call below runs when skiff is bundled (and, from
 * source, when this module is first loaded), so the binary holds the compiled client, the page,
 * the stylesheet and the icon as strings. serve-console.ts imports this module on the first
 * console request only, so nothing else pays for it.
 */
import { createHash } from "node:crypto";
import { buildConsoleTexts } from "./build-assets.ts" with { type: "macro" };

/** One file the console serves. */
export interface ConsoleAsset {
  readonly body: string;
  readonly contentType: string;
  /** A strong validator: the first 128 bits of the body's SHA-256, quoted. */
  readonly etag: string;
}

const texts = buildConsoleTexts();

function asset(body: string, contentType: string): ConsoleAsset {
  return { body, contentType, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` };
}

/** The files under /ui/, by the path after `/ui` (the page is `/`). */
export const consoleAssets: ReadonlyMap<string, ConsoleAsset> = new Map([
  ["/", asset(texts.html, "text/html; charset=utf-8")],
  ["/console.js", asset(texts.script, "text/javascript; charset=utf-8")],
  ["/console.css", asset(texts.css, "text/css; charset=utf-8")],
  ["/icon.svg", asset(texts.icon, "image/svg+xml")],
]);
