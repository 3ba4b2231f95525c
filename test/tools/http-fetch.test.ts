import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHttpFetchTool, type FetchResult, type HttpFetchOptions } from "../../src/tools/builtin/http-fetch.ts";
import { blockedAddressReason } from "../../src/tools/builtin/address-policy.ts";
import { createSemaphore } from "../../src/util/semaphore.ts";
import { ToolFailure } from "../../src/tools/tool.ts";

let server: ReturnType<typeof Bun.serve>;
let v6: ReturnType<typeof Bun.serve> | undefined;
let port: number;
const hits: { path: string; host: string | null; method: string }[] = [];

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      hits.push({ path: url.pathname, host: request.headers.get("host"), method: request.method });
      switch (url.pathname) {
        case "/page":
          return new Response(
            "<html><head><title>Fish &amp; Chips</title><style>p{color:red}</style><script>alert(1)</script></head><body><h1>Menu</h1><p>Cod&nbsp;&mdash; &#163;9</p><ul><li>Peas</li><li>Vinegar</li></ul></body></html>",
            { headers: { "content-type": "text/html; charset=utf-8" } },
          );
        case "/json":
          return Response.json({ ok: true, method: request.method, body: await request.text() });
        case "/to-localhost":
          return Response.redirect(`http://localhost:${port}/json`, 302);
        case "/to-json":
          return new Response(null, { status: 303, headers: { location: "/json" } });
        case "/loop":
          return Response.redirect(`http://127.0.0.1:${port}/loop`, 302);
        case "/big":
          return new Response("z".repeat(200_000), { headers: { "content-type": "text/plain" } });
        case "/binary":
          return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]), { headers: { "content-type": "image/png" } });
        default:
          return new Response("nothing here", { status: 404 });
      }
    },
  });
  port = server.port!;
  try {
    v6 = Bun.serve({ hostname: "::1", port: 0, fetch: () => new Response("over ipv6") });
  } catch {
    v6 = undefined; // no IPv6 loopback on this machine
  }
});

afterAll(async () => {
  await server.stop(true);
  await v6?.stop(true);
});

function fetchTool(options: Partial<HttpFetchOptions> = {}) {
  return createHttpFetchTool({ allowHosts: [], maxResponseBytes: 1024 * 1024, timeoutMs: 5000, outbound: createSemaphore(16), ...options });
}

const ctx = () => ({ signal: new AbortController().signal, callId: "c" });

async function refusal(tool: ReturnType<typeof fetchTool>, url: string): Promise<string> {
  const before = hits.length;
  const error = await tool.execute({ url }, ctx()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolFailure);
  // Refused before any connection: the server never saw the request.
  expect(hits.length).toBe(before);
  return (error as Error).message;
}

async function fetched(tool: ReturnType<typeof fetchTool>, args: Record<string, unknown>): Promise<FetchResult> {
  return (await tool.execute(args, ctx())) as FetchResult;
}

describe("http_fetch address policy", () => {
  const tool = fetchTool();

  it("refuses loopback, private, link-local and metadata addresses", async () => {
    expect(await refusal(tool, `http://127.0.0.1:${port}/json`)).toBe(
      `refused to fetch http://127.0.0.1:${port}/json: 127.0.0.1 is loopback (127.0.0.0/8); only public addresses can be fetched unless tools.allow_hosts lists "127.0.0.1"`,
    );
    expect(await refusal(tool, `http://[::1]:${port}/json`)).toContain("::1 is loopback (::1)");
    expect(await refusal(tool, "http://10.1.2.3/")).toContain("10.1.2.3 is private (10.0.0.0/8)");
    expect(await refusal(tool, "http://169.254.169.254/latest/meta-data/")).toContain("169.254.169.254 is link-local");
    expect(await refusal(tool, "http://[::ffff:127.0.0.1]/")).toContain("IPv4-mapped loopback");
    expect(await refusal(tool, "http://0x7f000001/")).toContain("127.0.0.1 is loopback"); // URL parsing normalises odd forms
    expect(await refusal(tool, "http://100.64.1.1/")).toContain("carrier-grade NAT");
  });

  it("refuses a host name that resolves to loopback", async () => {
    expect(await refusal(tool, `http://localhost:${port}/json`)).toContain(`localhost resolves to 127.0.0.1, which is loopback`);
  });

  it("refuses a redirect to loopback, checking every hop", async () => {
    const allowed = fetchTool({ allowHosts: ["127.0.0.1"] });
    const error = await allowed.execute({ url: `http://127.0.0.1:${port}/to-localhost` }, ctx()).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`refused to fetch http://localhost:${port}/json: localhost resolves to 127.0.0.1`);
  });

  it("refuses other schemes and credentials in the URL", async () => {
    expect(await refusal(tool, "file:///etc/passwd")).toContain("only http:// and https:// URLs");
    expect(await refusal(tool, "https://user:pw@example.com/")).toContain("user name or password");
  });

  it("reaches hosts that tools.allow_hosts names", async () => {
    const allowed = fetchTool({ allowHosts: ["127.0.0.1", "LOCALHOST", "[::1]"] });
    expect((await fetched(allowed, { url: `http://127.0.0.1:${port}/json` })).status).toBe(200);
    expect((await fetched(allowed, { url: `http://localhost:${port}/to-json` })).body).toContain('"ok":true');
    if (v6) expect((await fetched(allowed, { url: `http://[::1]:${v6.port}/` })).body).toBe("over ipv6");
  });

  it("connects to the address it checked, not to a second lookup (DNS rebinding)", async () => {
    const answers = ["127.0.0.1", "10.9.9.9"];
    const lookups: string[] = [];
    const rebinding = fetchTool({
      // The first answer is checked and used; a later, private one must never be asked for.
      lookup: async (host) => {
        lookups.push(host);
        return [{ address: answers[Math.min(lookups.length - 1, 1)]!, family: 4 }];
      },
      blockedReason: (address) => (address === "127.0.0.1" ? undefined : blockedAddressReason(address)),
    });
    const result = await fetched(rebinding, { url: `http://rebind.test:${port}/json` });
    expect(result.status).toBe(200);
    expect(result.url).toBe(`http://rebind.test:${port}/json`);
    expect(lookups).toEqual(["rebind.test"]);
    expect(hits.at(-1)!.host).toBe(`rebind.test:${port}`);
  });

  it("keeps TLS checks on the host name when it connects to the pinned address", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skiff-tls-"));
    const openssl = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pinned.test",
        "-addext", "subjectAltName=DNS:pinned.test", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { stdout: "ignore", stderr: "ignore" },
    );
    if (openssl.exitCode !== 0) {
      rmSync(dir, { recursive: true, force: true });
      return; // no openssl here: nothing to build a certificate with
    }
    const ca = readFileSync(join(dir, "cert.pem"), "utf8");
    const tls = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: ca, key: readFileSync(join(dir, "key.pem"), "utf8") },
      fetch: (request) => new Response(`tls host ${request.headers.get("host")}`),
    });
    try {
      const pinned = (name: string) =>
        fetchTool({
          lookup: async () => [{ address: "127.0.0.1", family: 4 }],
          blockedReason: (address) => (address === "127.0.0.1" ? undefined : blockedAddressReason(address)),
          // Trust the test CA; everything else (serverName, the pinned IP) is http_fetch's own.
          fetch: (url, init) => fetch(url, { ...init, tls: { ...init.tls, ca } }),
        }).execute({ url: `https://${name}:${tls.port}/` }, ctx());
      expect(((await pinned("pinned.test")) as FetchResult).body).toBe(`tls host pinned.test:${tls.port}`);
      // Another name on the same address must fail the certificate check, not be let through.
      expect(await pinned("other.test").then(() => "fetched", (e: unknown) => (e as Error).message)).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
    } finally {
      await tls.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("http_fetch responses", () => {
  const tool = fetchTool({ allowHosts: ["127.0.0.1"], maxResponseBytes: 64 * 1024 });
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  it("reduces HTML to its text", async () => {
    const result = await fetched(tool, { url: url("/page") });
    expect(result.content_type).toBe("text/html; charset=utf-8");
    expect(result.body).toBe("Fish & Chips\n\nMenu\n\nCod — £9\n\n- Peas\n- Vinegar");
  });

  it("sends a POST body and follows a 303 as a GET", async () => {
    const posted = await fetched(tool, { url: url("/json"), method: "POST", body: '{"a":1}' });
    expect(JSON.parse(posted.body)).toEqual({ ok: true, method: "POST", body: '{"a":1}' });
    const redirected = await fetched(tool, { url: url("/to-json"), method: "POST", body: "x" });
    expect(redirected.url).toBe(url("/json"));
    expect(JSON.parse(redirected.body)).toEqual({ ok: true, method: "GET", body: "" });
  });

  it("stops after 5 redirects", async () => {
    const error = await tool.execute({ url: url("/loop") }, ctx()).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`${url("/loop")} redirected more than 5 times; stopped at ${url("/loop")}`);
  });

  it("reads at most maxResponseBytes and says so", async () => {
    const result = await fetched(tool, { url: url("/big") });
    expect(result.body.length).toBe(64 * 1024);
    expect(result.truncated).toBe("only the first 64 KiB of the body were read");
  });

  it("does not show binary content", async () => {
    expect((await fetched(tool, { url: url("/binary") })).body).toBe("[binary content (image/png), not shown]");
  });

  it("returns non-2xx statuses to the model as results", async () => {
    const result = await fetched(tool, { url: url("/missing") });
    expect(result.status).toBe(404);
    expect(result.body).toBe("nothing here");
  });
});
