const encoder = new TextEncoder();

/**
 * Cuts text to at most `limit` UTF-8 bytes (never splitting a character) and says so at the end,
 * so the model knows the output is incomplete rather than silently short.
 */
export function truncateUtf8(text: string, limit: number): string {
  // Fast path: a string of n UTF-16 units encodes to at most 3n bytes.
  if (text.length * 3 <= limit) return text;
  const bytes = encoder.encode(text);
  if (bytes.length <= limit) return text;
  // A fresh streaming decoder drops a trailing partial character instead of emitting U+FFFD.
  const kept = new TextDecoder().decode(bytes.subarray(0, limit), { stream: true });
  return `${kept}\n…[truncated: showed ${limit} of ${bytes.length} bytes]`;
}
