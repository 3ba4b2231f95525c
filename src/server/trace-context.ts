const traceparentPattern = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$/;

/**
 * The request's W3C `traceparent`, when well-formed, so the run joins the caller's trace. A
 * malformed one is ignored (the run starts a new trace), as the W3C spec asks.
 */
export function traceparentOf(req: Request): string | undefined {
  const header = req.headers.get("traceparent")?.trim().toLowerCase();
  return header !== undefined && header.length <= 512 && !header.startsWith("ff-") && traceparentPattern.test(header) ? header : undefined;
}
