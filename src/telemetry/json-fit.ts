/**
 * Attribute values cut to a size in UTF-8 bytes without breaking them: a JSON value stays valid
 * JSON (strings inside it are shortened, then whole leading array items or trailing object keys
 * dropped), text is cut between characters, and every cut string ends with a marker. Backends cut
 * long attributes themselves (Grafana Tempo at `max_attribute_bytes`, 2,048 by default), which
 * leaves JSON content unreadable; cutting first, knowing the structure, keeps it parseable.
 */

/** Appended to every string that was cut, so a reader sees that text is missing. */
export const TRUNCATION_MARKER = "…[truncated]";

/** A serialized value, and whether anything was cut to make it fit. */
export interface Fitted {
  readonly text: string;
  readonly cut: boolean;
}

const encoder = new TextEncoder();
const markerBytes = encoder.encode(TRUNCATION_MARKER).byteLength;

/** Whether `text` takes at most `maxBytes` bytes in UTF-8 (`maxBytes` ≤ 0: no limit). */
export function fitsIn(text: string, maxBytes: number): boolean {
  if (maxBytes <= 0) return true;
  // A UTF-16 unit is 1 to 3 bytes in UTF-8 (a surrogate pair, 2 units, is 4): two cheap bounds first.
  if (text.length > maxBytes) return false;
  if (text.length * 3 <= maxBytes) return true;
  return Buffer.byteLength(text, "utf8") <= maxBytes;
}

/** `text` itself when it fits, else its longest prefix that fits with the marker after it. */
export function fitText(text: string, maxBytes: number): Fitted {
  if (fitsIn(text, maxBytes)) return { text, cut: false };
  if (maxBytes < markerBytes) return { text: prefixWithin(text, maxBytes), cut: true };
  return { text: prefixWithin(text, maxBytes - markerBytes) + TRUNCATION_MARKER, cut: true };
}

/**
 * `value` as JSON in at most `maxBytes` bytes (≤ 0: no limit). When the whole does not fit: every
 * string longer than a common cap is cut to it (the largest cap that fits, found by bisection);
 * if even the shortest strings leave it too long, the first items of a top-level array (the
 * oldest messages) or the last keys of a top-level object go; past that, the marker alone, as a
 * JSON string. The result always parses.
 */
export function fitJson(value: unknown, maxBytes: number): Fitted {
  const whole = JSON.stringify(value) ?? "null";
  if (fitsIn(whole, maxBytes)) return { text: whole, cut: false };
  const capped = capToFit(value, maxBytes);
  if (capped !== undefined) return { text: capped, cut: true };
  const shrunk = shrinkToFit(value, maxBytes);
  if (shrunk !== undefined) return { text: shrunk, cut: true };
  const marker = JSON.stringify(TRUNCATION_MARKER);
  return { text: fitsIn(marker, maxBytes) ? marker : '""', cut: true };
}

/** The longest prefix of `text` within `maxBytes` UTF-8 bytes, never splitting a character. */
function prefixWithin(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return "";
  // encodeInto stops before a character that does not fit and says how many UTF-16 units it read.
  const { read } = encoder.encodeInto(text, new Uint8Array(maxBytes));
  return text.slice(0, read);
}

/** The JSON of `value` with strings cut to the largest common cap that fits, or undefined. */
function capToFit(value: unknown, maxBytes: number): string | undefined {
  const longest = longestString(value);
  let low = 0;
  // Strings no longer than cap + marker are kept whole, so a larger cap never makes the JSON shorter.
  let high = longest - TRUNCATION_MARKER.length - 1;
  let best: string | undefined;
  while (low <= high) {
    const cap = (low + high) >> 1;
    const text = JSON.stringify(capStrings(value, cap));
    if (fitsIn(text, maxBytes)) {
      best = text;
      low = cap + 1;
    } else {
      high = cap - 1;
    }
  }
  return best;
}

/** Drops the oldest items of a top-level array, or the last keys of a top-level object, until it fits. */
function shrinkToFit(value: unknown, maxBytes: number): string | undefined {
  let parts: (count: number) => unknown;
  let size: number;
  if (Array.isArray(value)) {
    // Keep the last `count` items: the newest messages.
    parts = (count) => value.slice(value.length - count);
    size = value.length;
  } else if (isPlainObject(value)) {
    const entries = Object.entries(value);
    parts = (count) => Object.fromEntries(entries.slice(0, count));
    size = entries.length;
  } else {
    return undefined;
  }
  // The most that still fits, by bisection over how many are kept (fewer never makes it longer).
  let low = 1;
  let high = size - 1;
  let best: string | undefined;
  while (low <= high) {
    const count = (low + high) >> 1;
    const part = parts(count);
    const whole = JSON.stringify(part);
    const text = fitsIn(whole, maxBytes) ? whole : capToFit(part, maxBytes);
    if (text !== undefined) {
      best = text;
      low = count + 1;
    } else {
      high = count - 1;
    }
  }
  return best;
}

/** A copy of `value` whose strings longer than `cap` + marker are cut to `cap` units + marker. */
function capStrings(value: unknown, cap: number): unknown {
  if (typeof value === "string") {
    if (value.length <= cap + TRUNCATION_MARKER.length) return value;
    // Never end on the first half of a surrogate pair.
    const end = cap > 0 && isHighSurrogate(value.charCodeAt(cap - 1)) ? cap - 1 : cap;
    return value.slice(0, end) + TRUNCATION_MARKER;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => capStrings(item, cap));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key in value) out[key] = capStrings(value[key], cap);
    return out;
  }
  return value;
}

function longestString(value: unknown): number {
  if (typeof value === "string") return value.length;
  let longest = 0;
  if (Array.isArray(value)) {
    for (const item of value) longest = Math.max(longest, longestString(item));
  } else if (isPlainObject(value)) {
    for (const key in value) longest = Math.max(longest, longestString(value[key]));
  }
  return longest;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
