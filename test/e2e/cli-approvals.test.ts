/**
 * Approvals from the command line, on the compiled binary: `ask` without a terminal stops before
 * the call (exit 4, the pending call in --json), `--approve` lets it run; `chat` in a real
 * pseudo-terminal (util-linux `script`) answered y, n with a reason, and a.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import type { Subprocess } from "bun";
import { createFakeOpenAIs, reply } from "../fakes/fake-openai-server.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";

let binary = "";
/** util-linux `script`, which runs a command in a new pseudo-terminal. */
const scriptPath = Bun.which("script");
const { start: startFake, stopAll: stopFakes } = createFakeOpenAIs();
const children: Subprocess[] = [];

beforeAll(async () => {
  binary = await skiffBinary();
}, 120_000);
afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  await stopFakes();
});

describe("skiff ask with tools that need approval", () => {
  it("without a terminal stops before the call with exit 4 and the pending call in --json", async () => {
    const result = await runSkiff(["ask", "--model", "demo", "--require-approval", "calc", "--json", "what is 6*7?"]);
    expect(result.code).toBe(4);
    const json = JSON.parse(result.stdout) as { id: string; status: string; pending_approvals: { call_id: string; tool: string; arguments: string }[] };
    expect(json.status).toBe("requires_action");
    expect(json.id).toMatch(/^run_/);
    expect(json.pending_approvals).toEqual([{ step: 1, call_id: "call_1_calc", tool: "calc", arguments: '{"expression":"6*7"}' }] as never);
    expect(result.stderr).toContain("need approval (calc)");
  });

  it("runs the call with --approve TOOL (exit 0), and with --yes", async () => {
    const approved = await runSkiff(["ask", "--model", "demo", "--require-approval", "calc", "--approve", "calc", "what is 6*7?"]);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toBe("6*7 = 42.\n");
    expect(approved.stderr).toContain("calc ok");
    const yes = await runSkiff(["ask", "--model", "demo", "--require-approval", "c*", "--yes", "what is 6*7?"]);
    expect(yes.code).toBe(0);
  });
});

/** `skiff chat` inside a pseudo-terminal; `until` waits for text on the terminal, `type` sends a line. */
function chatInPty(args: readonly string[]) {
  const command = [binary, "chat", ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  const child = Bun.spawn([scriptPath!, "-qfec", command, "/dev/null"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: cleanEnv() });
  children.push(child);
  let screen = "";
  const waiters: { text: string; from: number; wake: () => void }[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      screen += decoder.decode(chunk, { stream: true });
      for (const waiter of [...waiters]) {
        if (screen.indexOf(waiter.text, waiter.from) !== -1) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.wake();
        }
      }
    }
  })();
  let mark = 0;
  return {
    /** Resolves when `text` appears after what earlier waits consumed. */
    until(text: string, timeoutMs = 15_000): Promise<void> {
      const from = mark;
      const found = screen.indexOf(text, from);
      if (found !== -1) {
        mark = found + text.length;
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" on the terminal; it shows:\n${screen}`)), timeoutMs);
        waiters.push({
          text,
          from,
          wake: () => {
            clearTimeout(timer);
            mark = screen.indexOf(text, from) + text.length;
            resolve();
          },
        });
      });
    },
    type(line: string): void {
      void child.stdin.write(`${line}\n`);
      void child.stdin.flush();
    },
    get screen() {
      return screen;
    },
    child,
  };
}

describe.skipIf(!scriptPath)("skiff chat with tools that need approval, and its slash commands (pseudo-terminal)", () => {
  it("asks for each call: y runs it, n tells the model the reason, a allows the tool for the rest of the chat", async () => {
    // The model computes what it is asked, then repeats what the tool said.
    const fake = startFake((request) => {
      const messages = request.body?.["messages"] as { role: string; content: string }[];
      const last = messages.at(-1)!;
      if (last.role === "tool") return reply.text(`tool said: ${last.content}`);
      return reply.toolCalls([{ id: `c${messages.length}`, name: "calc", arguments: JSON.stringify({ expression: last.content }) }]);
    });
    const chat = chatInPty(["--base-url", fake.url, "--model", "m", "--tools", "calc", "--require-approval", "calc"]);
    await chat.until("you> ");
    chat.type("6*7");
    await chat.until("allow calc? [y]es, [n]o, [a]lways for calc: ");
    expect(chat.screen).toContain('"expression": "6*7"');
    chat.type("y");
    await chat.until(`tool said: {"expression":"6*7","result":42}`);

    await chat.until("you> ");
    chat.type("2+3");
    await chat.until("allow calc?");
    chat.type("n");
    await chat.until("reason (optional, told to the model): ");
    chat.type("not arithmetic today");
    await chat.until("tool said: error: a person denied this call: not arithmetic today");

    await chat.until("you> ");
    chat.type("1+1");
    await chat.until("allow calc?");
    chat.type("a");
    await chat.until('"result":2}');
    await chat.until("you> ");
    chat.type("3*3");
    await chat.until('"result":9}');
    // After "a" no question is asked for calc again.
    expect(chat.screen.split("allow calc?").length - 1).toBe(3);
    // Slash commands are answered by chat itself, never sent to the model.
    const asked = fake.chatRequests().length;
    await chat.until("you> ");
    chat.type("/help");
    await chat.until("commands: /reset clears the history, /exit (or Ctrl-D) quits");
    chat.type("/foo");
    await chat.until("unknown command /foo");
    expect(fake.chatRequests().length).toBe(asked);
    await chat.until("you> ");
    chat.type("/exit");
    expect(await chat.child.exited).toBe(0);
  }, 60_000);
});
