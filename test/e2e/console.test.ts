/**
 * The web console (/ui/) of the compiled binary in headless Chromium (Debian's `chromium`, driven
 * by puppeteer-core; no browser is downloaded): sign in with the token, watch a run that needs
 * approval appear with its pending call, approve it and see the run complete; a run whose answer
 * and tool arguments carry HTML shows them as characters and runs nothing; chat streams an answer
 * into a session; every console response carries the CSP. Screenshots go to a temporary folder
 * (SKIFF_TEST_ARTIFACTS to choose it), never into the repository.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type ConsoleMessage, type Page } from "puppeteer-core";
import { consoleContentSecurityPolicy } from "../../src/server/console/serve-console.ts";
import { type FakeOpenAI, type RecordedRequest, reply, startFakeOpenAI } from "../fakes/fake-openai-server.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { cleanEnv, skiffBinary } from "./binary.ts";
import { type ServeProcess, startServe, stopAllServes } from "./serve-process.ts";

const chromium = "/usr/bin/chromium";
// In CI the browser is installed (.ci/run), so a missing one is a failure there, not a skip.
const skip = !existsSync(chromium) && process.env["CI"] !== "true";
if (skip) console.warn(`console.test.ts: skipping the console tests: ${chromium} is not installed (apt-get install chromium)`);

const token = "console-test-token-0123456789";
const payload = `<img src=x onerror="window.__skiffXss=1;console.log('xss-fired')"><script>window.__skiffXss=2</script>`;
const artifacts = process.env["SKIFF_TEST_ARTIFACTS"] ?? join(tmpdir(), "skiff-test-artifacts");
const { make: tempDir, removeAll } = createTempDirs("skiff-console-");

// The page's globals as the functions run inside Chromium use them (this file is checked without the DOM library).
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
  readonly cookie: string;
};
declare const window: { readonly __skiffXss?: number };

let model: FakeOpenAI | undefined;
let server: ServeProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const consoleLines: string[] = [];
const consoleResponses: { url: string; status: number; headers: Record<string, string> }[] = [];

/** The model: a call that needs approval, a run full of HTML, and a streamed greeting. */
function script(request: RecordedRequest) {
  const messages = request.body?.["messages"] as { role: string; content: string }[];
  const question = messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
  const results = messages.filter((m) => m.role === "tool").map((m) => m.content);
  if (question.includes("needs-approval")) {
    return results.length === 0 ? reply.toolCalls([{ id: "call_calc_1", name: "calc", arguments: '{"expression":"6*7"}' }]) : reply.text(`The product is in: ${results[0]}`);
  }
  if (question.includes("html")) {
    return results.length === 0 ? reply.toolCalls([{ id: "call_time_x", name: "time", arguments: JSON.stringify({ zone: payload }) }]) : reply.text(`Here it is: ${payload}`);
  }
  return reply.text(["Hello ", "from ", "the console!"]);
}

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function textOf(selector: string): Promise<string> {
  return page.$eval(selector, (node) => node.textContent ?? "");
}

async function screenshot(name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `console-${name}.png`) as `${string}.png`, fullPage: true });
}

describe.skipIf(skip)("the web console (compiled binary, headless Chromium)", () => {
  beforeAll(async () => {
    await skiffBinary();
    const dir = tempDir();
    model = startFakeOpenAI(script);
    server = await startServe({
      args: ["--base-url", model.url, "--model", "m", "--sessions", `sqlite:${join(dir, "skiff.db")}`, "--tools", "time,calc", "--require-approval", "calc"],
      env: cleanEnv({ SKIFF_AUTH_TOKEN: token }),
    });
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      userDataDir: tempDir(),
      // No sandbox (containers, root in CI) and nothing that reaches the network on its own.
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    page.on("console", (message: ConsoleMessage) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => consoleLines.push(`pageerror: ${String(error)}`));
    page.on("response", (response) => {
      if (new URL(response.url()).pathname.startsWith("/ui")) consoleResponses.push({ url: response.url(), status: response.status(), headers: response.headers() });
    });
    page.setDefaultTimeout(20_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopAllServes();
    await model?.stop();
    removeAll();
    console.log(`console.test.ts: screenshots in ${artifacts}`);
  });

  it("asks for the token, refuses a wrong one, and signs in with the right one", async () => {
    await page.goto(`${server!.url}/ui`);
    expect(new URL(page.url()).pathname).toBe("/ui/");
    await page.waitForSelector("form.sign-in");
    expect(await textOf('label[for="token"]')).toBe("Token");
    expect(await page.$eval("#token", (input) => input.getAttribute("type"))).toBe("password");
    await screenshot("sign-in");

    await page.type("#token", "not-the-token-at-all-0000");
    await page.click('form.sign-in button[type="submit"]');
    await page.waitForFunction(() => document.querySelector("form.sign-in [role=alert]")?.textContent === "That token was not accepted.");

    await page.$eval("#token", (input) => ((input as unknown as { value: string }).value = ""));
    await page.type("#token", token);
    await page.click('form.sign-in button[type="submit"]');
    await page.waitForSelector("table.runs");
    expect(await page.$eval("#nav", (nav) => nav.hasAttribute("hidden"))).toBe(false);
    // Kept for this tab only, and never as a cookie.
    expect(await page.evaluate(() => [sessionStorage.getItem("skiff.console.token"), document.cookie, localStorage.length])).toEqual([token, "", 0]);
  }, 30_000);

  it("shows a run that needs approval with its pending call; Approve lets it complete", async () => {
    const run = await api("POST", "/v1/runs", { input: "needs-approval: multiply 6 by 7", background: true });
    const id = String(run["id"]);
    const row = `tr[data-run-id="${id}"][data-status="requires_action"]`;
    await page.waitForSelector(row);
    expect(await textOf(`${row} .badge`)).toBe("needs approval");
    expect(await textOf(".notice")).toBe("1 run waiting for approval");
    await screenshot("runs");

    await page.click(`${row} a`);
    const pending = '.pending[data-call-id="call_calc_1"]';
    await page.waitForSelector(pending);
    expect(await textOf(`${pending} .call-head strong`)).toBe("calc");
    expect(await textOf(`${pending} pre`)).toBe('{\n  "expression": "6*7"\n}');
    await screenshot("approval");

    await page.click(`${pending} button.approve`);
    await page.waitForSelector(".run-title .status-completed");
    await page.waitForSelector("pre.answer");
    expect(await textOf("pre.answer")).toBe('The product is in: {"expression":"6*7","result":42}');
    expect(await page.$(".approvals")).toBeNull();
    expect(await textOf('.step[data-step="1"] .decision')).toBe("call_calc_1 approved by api");
    const tree = await textOf("pre.tree");
    expect(tree).toMatch(/^invoke_agent skiff +\+0\.0ms/);
    expect(tree).toContain("├─ chat m");
    expect(tree).toContain("├─ execute_tool calc");
    expect(tree).toContain("call_calc_1");
    expect(tree).toMatch(/└─ chat m .* stop\n$/);
    expect((await api("GET", `/v1/runs/${id}`))["status"]).toBe("completed");
    await screenshot("run");
  }, 60_000);

  it("shows HTML in a run's answer and tool arguments as text, and runs none of it", async () => {
    const run = await api("POST", "/v1/runs", { input: "show me some html" });
    expect(run["output"]).toBe(`Here it is: ${payload}`);
    await page.goto(`${server!.url}/ui/#/runs/${String(run["id"])}`);
    await page.waitForSelector("pre.answer");
    expect(await textOf("pre.answer")).toBe(`Here it is: ${payload}`);
    expect(await textOf('.tool-call[data-call-id="call_time_x"] pre.json')).toContain(payload.replaceAll('"', '\\"'));
    expect(await textOf('.tool-call[data-call-id="call_time_x"] pre.output')).toContain("<img src=x");
    // No element was made from the text, so there was nothing to run.
    expect(await page.evaluate(() => [document.querySelectorAll("img, script:not([src])").length, window.__skiffXss ?? null])).toEqual([0, null]);
    expect(consoleLines.filter((line) => line.includes("xss-fired"))).toEqual([]);
    await screenshot("html-as-text");
  }, 30_000);

  it("chats in a session with the answer streamed, and shows the conversation again after a reload", async () => {
    await page.goto(`${server!.url}/ui/#/chat`);
    await page.waitForSelector(".chat-form textarea");
    await page.type(".chat-form textarea", "hello console");
    await page.click('.chat-form button[type="submit"]');
    await page.waitForFunction(() => document.querySelector(".bubble.assistant pre.text")?.textContent === "Hello from the console!");
    await page.waitForSelector(".bubble.assistant a[href^='#/runs/run_']");
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll(".chat-log .bubble").length === 2);
    const bubbles = await page.$$eval(".chat-log .bubble", (nodes) => nodes.map((node) => `${node.className}: ${node.textContent}`));
    expect(bubbles).toEqual(["bubble user: hello console", "bubble assistant: Hello from the console!"]);
  }, 30_000);

  it("lists the tools with their schemas, and shows Usage only where the server has it", async () => {
    await page.goto(`${server!.url}/ui/#/tools`);
    await page.waitForSelector('section.tool[data-tool="calc"]');
    expect(await textOf('section.tool[data-tool="calc"] pre.json')).toContain('"expression"');
    const usage = await fetch(`${server!.url}/v1/usage`, { headers: { authorization: `Bearer ${token}` } });
    expect(await page.$eval("#usage-link", (link) => link.hasAttribute("hidden"))).toBe(usage.status !== 200);
    if (usage.status === 200) {
      await page.goto(`${server!.url}/ui/#/usage`);
      await page.waitForFunction(() => document.querySelector("main p.muted")?.textContent?.endsWith("(UTC days)"));
      expect(await page.$("main .error")).toBeNull();
    }
  }, 30_000);

  it("signs out, forgetting the token", async () => {
    await page.click("#sign-out");
    await page.waitForSelector("form.sign-in");
    expect(await page.evaluate(() => sessionStorage.getItem("skiff.console.token"))).toBeNull();
  }, 30_000);

  it("sends the CSP, nosniff and no framing with every console response, and the page broke none of it", async () => {
    expect(consoleResponses.length).toBeGreaterThan(5);
    for (const paths of ["/ui", "/ui/", "/ui/console.js", "/ui/console.css", "/ui/icon.svg", "/ui/no-such-file"]) {
      const res = await fetch(`${server!.url}${paths}`, { redirect: "manual" });
      consoleResponses.push({ url: res.url, status: res.status, headers: Object.fromEntries(res.headers) });
      await res.arrayBuffer();
    }
    for (const response of consoleResponses) {
      expect({ url: response.url, csp: response.headers["content-security-policy"], nosniff: response.headers["x-content-type-options"] }).toEqual({
        url: response.url,
        csp: consoleContentSecurityPolicy,
        nosniff: "nosniff",
      });
    }
    expect(consoleContentSecurityPolicy).toContain("frame-ancestors 'none'");
    expect(consoleContentSecurityPolicy).not.toContain("unsafe");
    // No CSP or Trusted Types violation, no uncaught error. (The 401 and 404 the page expects, of a
    // wrong token and of a server without /v1/usage, log "Failed to load resource".)
    const problems = consoleLines.filter((line) => /^(error|warn|pageerror)/.test(line) && !line.includes("Failed to load resource"));
    expect(problems).toEqual([]);
  }, 30_000);
});

describe("skiff serve --no-ui (compiled binary)", () => {
  afterAll(() => stopAllServes());

  it("serves no console: /ui/ is the API's 404", async () => {
    const off = await startServe({ args: ["--model", "demo", "--sessions", "memory", "--no-ui"] });
    const res = await fetch(`${off.url}/ui/`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("no route /ui/: the console is turned off (server.ui = false)");
  }, 30_000);
});
