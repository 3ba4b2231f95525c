import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { consoleAssets } from "../../src/server/console/assets.ts";
import { consoleContentSecurityPolicy, consoleSecurityHeaders } from "../../src/server/console/serve-console.ts";
import { errorOf, request, testApp } from "./helpers.ts";

const clientDir = join(import.meta.dir, "../../src/server/console/client");

function get(path: string, headers: Record<string, string> = {}): Request {
  return request("GET", path, undefined, { auth: false, headers });
}

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(consoleSecurityHeaders)) expect(`${name}: ${response.headers.get(name)}`).toBe(`${name}: ${value}`);
}

describe("serveConsole", () => {
  it("serves the page without a token, with a CSP that allows no inline script, no eval and no framing", async () => {
    const { app } = testApp();
    const res = await app.fetch(get("/ui/"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expectSecurityHeaders(res);
    expect(consoleContentSecurityPolicy).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
        "form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
    );
    // The page itself has nothing inline for the CSP to refuse.
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\s(on\w+|style)=/i);
    expect(html).not.toContain("<style");
  });

  it("serves every file the page names, each with its type and the same headers", async () => {
    const { app } = testApp();
    const html = await (await app.fetch(get("/ui/"))).text();
    const named = [...html.matchAll(/\s(?:src|href)="([^"#]+)"/g)].map((match) => match[1]!);
    expect(named.sort()).toEqual(["console.css", "console.js", "icon.svg"]);
    const types: Record<string, string> = {
      "console.css": "text/css; charset=utf-8",
      "console.js": "text/javascript; charset=utf-8",
      "icon.svg": "image/svg+xml",
    };
    for (const file of named) {
      const res = await app.fetch(get(`/ui/${file}`));
      expect(`${file} ${res.status} ${res.headers.get("content-type")}`).toBe(`${file} 200 ${types[file]}`);
      expectSecurityHeaders(res);
      expect((await res.text()).length).toBeGreaterThan(100);
    }
  });

  it("redirects /ui to /ui/ (relative, so it works under a proxy's prefix) and answers unknown files 404, with the headers", async () => {
    const { app } = testApp();
    const redirect = await app.fetch(get("/ui"));
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("ui/");
    expectSecurityHeaders(redirect);
    const unknown = await app.fetch(get("/ui/admin.html"));
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await unknown.text()).toBe("no console file /ui/admin.html; the console is at /ui/\n");
    expectSecurityHeaders(unknown);
  });

  it("answers HEAD, and 304 to a matching If-None-Match", async () => {
    const { app } = testApp();
    const full = await app.fetch(get("/ui/console.js"));
    const etag = full.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect(full.headers.get("cache-control")).toBe("no-cache");
    const head = await app.fetch(request("HEAD", "/ui/console.js", undefined, { auth: false }));
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(new TextEncoder().encode(await full.text()).byteLength));
    expectSecurityHeaders(head);
    const same = await app.fetch(get("/ui/console.js", { "if-none-match": `"other", W/${etag}` }));
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    expectSecurityHeaders(same);
    expect((await app.fetch(get("/ui/console.js", { "if-none-match": '"other"' }))).status).toBe(200);
    expect((await app.fetch(request("POST", "/ui/", "x", { auth: false }))).status).toBe(405);
  });

  it("leaves the API closed: the console's files need no token, /v1/ still does", async () => {
    const { app } = testApp();
    expect((await app.fetch(get("/v1/runs"))).status).toBe(401);
    expect((await app.fetch(get("/ui/"))).status).toBe(200);
  });

  it("does not exist with server.ui = false", async () => {
    const { app } = testApp({ extra: { ui: false } });
    for (const path of ["/ui", "/ui/", "/ui/console.js"]) {
      const res = await app.fetch(get(path));
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ type: "not_found_error", message: "no route /ui/: the console is turned off (server.ui = false)" });
    }
  });
});

describe("consoleAssets", () => {
  it("stays small: about a third of what they add to the binary (200 KB at most, docs/console.md)", () => {
    const bytes = [...consoleAssets.values()].reduce((sum, asset) => sum + new TextEncoder().encode(asset.body).byteLength, 0);
    expect(bytes).toBeLessThan(60_000);
  });

  it("holds a client that never hands a string to an HTML sink or to eval", () => {
    const sinks = /\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function|createContextualFragment|DOMParser/;
    const sources = readdirSync(clientDir).filter((name) => name.endsWith(".ts"));
    expect(sources.length).toBeGreaterThan(10);
    for (const name of sources) expect(`${name}: ${sinks.test(readFileSync(join(clientDir, name), "utf8"))}`).toBe(`${name}: false`);
    expect(sinks.test(consoleAssets.get("/console.js")!.body)).toBe(false);
  });
});
