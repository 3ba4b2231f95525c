/**
 * A tiny search sidecar for skiff's `[[tools.http]]` example: POST /search {"query", "limit"} →
 * the best-matching notes. Run it next to skiff:
 *
 *   SEARCH_TOKEN=dev-token bun examples/sidecar/sidecar.ts        # listens on 127.0.0.1:9000
 *
 * It checks the bearer token skiff sends (from `headers = { authorization = "env:…" }`) and logs
 * the traceparent it receives, so the tool call can be found in the agent's trace.
 */
const notes = [
  { id: 1, title: "Deploying skiff", text: "Copy the binary with scp, install the unit from skiff systemd, start it." },
  { id: 2, title: "Rotating the API key", text: "Write the new key to /etc/skiff/openai.key and restart the service." },
  { id: 3, title: "Adding a tool", text: "Declare [[tools.http]] or [[tools.command]] in skiff.toml and restart." },
  { id: 4, title: "Tracing", text: "Set otel.endpoint to your collector; every run is one trace." },
];

const token = process.env["SEARCH_TOKEN"] ?? "dev-token";
const port = Number(process.env["PORT"] ?? 9000);

function score(query: string, note: (typeof notes)[number]): number {
  const words = query.toLowerCase().split(/\W+/).filter(Boolean);
  const haystack = `${note.title} ${note.text}`.toLowerCase();
  return words.filter((word) => haystack.includes(word)).length;
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/search") return new Response("not found", { status: 404 });
    if (request.headers.get("authorization") !== `Bearer ${token}`) return new Response("bad token", { status: 401 });
    const traceparent = request.headers.get("traceparent");
    if (traceparent) console.error(`search called in trace ${traceparent.split("-")[1]}`);
    const { query, limit = 3 } = (await request.json()) as { query: string; limit?: number };
    const hits = notes
      .map((note) => ({ ...note, score: score(query, note) }))
      .filter((note) => note.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, limit);
    return Response.json({ query, hits });
  },
});
console.error(`search sidecar on http://127.0.0.1:${server.port}/search`);
