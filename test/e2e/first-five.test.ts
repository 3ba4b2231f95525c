/**
 * A user's first five minutes with the compiled binary: `skiff init`, `skiff doctor` against real
 * servers on 127.0.0.1 (model, OTLP collector, HTTP tool, MCP servers), and shell completions
 * that cover the whole command table.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commands, flagsOf } from "../../src/cli/commands.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/fake-openai-server.ts";
import { type FakeMcpHttp, startFakeMcpHttp } from "../fakes/mcp-server.ts";
import { type OtlpReceiver, startOtlpReceiver } from "../fakes/otlp-receiver.ts";
import { cleanEnv, projectRoot, runSkiff, skiffBinary } from "./binary.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-first-");
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  removeTempDirs();
});

function fakeModel(options: { apiKey?: string } = {}): FakeOpenAI {
  const fake = startFakeOpenAI([], { models: ["fake-model", "other-model"], ...options });
  stops.push(() => fake.stop());
  return fake;
}

/** A port nothing listens on: one that was just in use and is closed again. */
async function closedPort(): Promise<number> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = server.port as number;
  await server.stop(true);
  return port;
}

describe("skiff init", () => {
  it("writes a commented skiff.toml that config check accepts and the demo runs with, and never overwrites it", async () => {
    const dir = tempDir();
    const init = await runSkiff(["init"], { cwd: dir });
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("wrote skiff.toml");
    const written = readFileSync(join(dir, "skiff.toml"), "utf8");
    expect(written).toStartWith("# skiff configuration, written by `skiff init`.");
    expect(written).toContain('\nmodel = "demo"\n');
    expect(written).toContain('# timeout = "2m"');

    const check = await runSkiff(["config", "check"], { cwd: dir });
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
    expect(check.stdout).toBe(`config ok (file ${join(dir, "skiff.toml")})\n`);

    const ask = await runSkiff(["ask", "what is 17*23?"], { cwd: dir });
    expect(ask.stdout).toBe("17*23 = 391.\n");

    const again = await runSkiff(["init"], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toBe("skiff: usage: skiff.toml already exists; skiff init never overwrites a file. Remove it first, or give another path: skiff init other.toml\n");
    expect(readFileSync(join(dir, "skiff.toml"), "utf8")).toBe(written);
  });

  it("writes to a given path, says to pass it with --config, and names a directory that does not exist", async () => {
    const dir = tempDir();
    const init = await runSkiff(["init", join(dir, "prod.toml")]);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`skiff doctor --config ${join(dir, "prod.toml")}`);
    expect((await runSkiff(["config", "check", "--config", join(dir, "prod.toml")])).code).toBe(0);

    const nowhere = await runSkiff(["init", join(dir, "no/such/dir/skiff.toml")]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain("its directory does not exist");
  });
});

describe("skiff doctor", () => {
  it("passes every check against a model server, a collector, an HTTP tool, a command tool and MCP servers", async () => {
    const model = fakeModel({ apiKey: "sk-doctor-secret" });
    const collector: OtlpReceiver = await startOtlpReceiver();
    stops.push(() => collector.stop());
    const tool = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => new Response(null, { status: request.method === "POST" ? 200 : 405 }) });
    stops.push(() => tool.stop(true));
    const mcpHttp: FakeMcpHttp = await startFakeMcpHttp();
    stops.push(() => mcpHttp.stop());
    const dir = tempDir();
    writeFileSync(
      join(dir, "skiff.toml"),
      [
        'model = "fake-model"',
        `base_url = "${model.url}"`,
        "[otel]",
        `endpoint = "${collector.url}"`,
        'headers = { authorization = "env:OTLP_TOKEN" }',
        "[[tools.http]]",
        'name = "lookup"',
        'description = "Looks things up"',
        `url = "http://127.0.0.1:${tool.port}/lookup"`,
        "[[tools.command]]",
        'name = "show"',
        'description = "Prints a file"',
        'argv = ["cat", "{path}"]',
        "[[mcp]]",
        'name = "local"',
        `command = [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(projectRoot, "test/fakes/mcp-server.ts"))}]`,
        "[[mcp]]",
        'name = "remote"',
        `url = "${mcpHttp.url}"`,
        "",
      ].join("\n"),
    );
    const result = await runSkiff(["doctor"], { cwd: dir, env: cleanEnv({ OPENAI_API_KEY: "sk-doctor-secret", OTLP_TOKEN: "Bearer otlp-secret" }) });
    const lines = result.stdout.trim().split("\n");
    expect(lines.map((line) => line.split(/\s{2,}/).slice(0, 2).join(" "))).toEqual([
      "ok config",
      "ok model",
      "ok otlp",
      "ok tool lookup",
      "ok tool show",
      "ok mcp local",
      "ok mcp remote",
      "doctor: 7 ok, 0 warning(s), 0 failed, 0 skipped",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`fake-model at ${model.url}/models → 200`);
    expect(result.stdout).toMatch(/mcp local +".*mcp-server\.ts" answered the MCP handshake, \d+ tool\(s\): echo, /);
    expect(result.stdout).toMatch(new RegExp(`mcp remote +${mcpHttp.url.replaceAll(".", "\\.")} answered the MCP handshake`));
    expect(result.stdout).not.toContain("sk-doctor-secret");
    expect(result.stdout).not.toContain("otlp-secret");
    // The checks really reached the servers, with the configured credentials.
    expect(model.requests.map((r) => `${r.method} ${r.path} ${r.headers["authorization"]}`)).toEqual(["GET /v1/models Bearer sk-doctor-secret"]);
    expect(collector.requests.map((r) => `${r.path} ${r.headers["authorization"]}`)).toEqual(["/v1/traces Bearer otlp-secret"]);
  }, 30_000);

  it("fails with exit 1 and names the URL when the model endpoint is down", async () => {
    const port = await closedPort();
    const result = await runSkiff(["doctor", "--model", "gpt-4.1-mini", "--base-url", `http://127.0.0.1:${port}/v1`], { cwd: tempDir() });
    expect(result.code).toBe(1);
    const line = result.stdout.split("\n").find((l) => l.startsWith("FAIL"));
    expect(line).toBe(
      `FAIL  model   gpt-4.1-mini at http://127.0.0.1:${port}/v1/models: connection refused (nothing listens there) — fix: start the model server, or correct base_url (--base-url, SKIFF_BASE_URL, OPENAI_BASE_URL or skiff.toml)`,
    );
    expect(result.stdout).toContain("doctor: 1 ok, 0 warning(s), 1 failed, 1 skipped");
  });

  it("says the key was rejected without printing it, and warns when the model is not listed", async () => {
    const model = fakeModel({ apiKey: "sk-right" });
    const rejected = await runSkiff(["doctor", "--model", "fake-model", "--base-url", model.url], {
      cwd: tempDir(),
      env: cleanEnv({ OPENAI_API_KEY: "sk-wrong-secret" }),
    });
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain(`FAIL  model   ${model.url}/models → 401: the endpoint rejected the API key — fix: set OPENAI_API_KEY or api_key_file`);
    expect(rejected.stdout + rejected.stderr).not.toContain("sk-wrong-secret");

    const unlisted = await runSkiff(["doctor", "--model", "gpt-9", "--base-url", model.url], { cwd: tempDir(), env: cleanEnv({ OPENAI_API_KEY: "sk-right" }) });
    expect(unlisted.code).toBe(0);
    expect(unlisted.stdout).toContain('WARN  model   ' + `${model.url}/models → 200`);
    expect(unlisted.stdout).toContain('"gpt-9" is not among its models: fake-model, other-model');
  });

  it("reports an invalid config as the one failing check, with exit 2", async () => {
    const result = await runSkiff(["doctor"], { cwd: tempDir(), env: cleanEnv({ SKIFF_TIMEOUT: "soon" }) });
    expect(result.code).toBe(2);
    expect(result.stdout).toStartWith('FAIL  config  timeout (env SKIFF_TIMEOUT): expected a duration like "250ms"');
    expect(result.stdout).toContain("doctor: the configuration is invalid, so nothing else was checked");
  });

  it("names a missing MCP program, an MCP URL and an HTTP tool that are down", async () => {
    const port = await closedPort();
    const dir = tempDir();
    writeFileSync(
      join(dir, "skiff.toml"),
      `model = "demo"\n[[tools.http]]\nname = "down"\ndescription = "d"\nurl = "http://127.0.0.1:${port}/x"\n[[mcp]]\nname = "ghost"\ncommand = ["no-such-mcp-server"]\n[[mcp]]\nname = "gone"\nurl = "http://127.0.0.1:${port}/mcp?token=sk-in-url"\n`,
    );
    const result = await runSkiff(["doctor"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`FAIL {2}tool down +http://127\\.0\\.0\\.1:${port}/x: connection refused`));
    expect(result.stdout).toMatch(/FAIL {2}mcp ghost +MCP server "ghost" could not be started: .*no-such-mcp-server/);
    expect(result.stdout).toMatch(new RegExp(`FAIL {2}mcp gone +http://127\\.0\\.0\\.1:${port}/mcp\\?token=\\*\\*\\*\\*: MCP server "gone" could not be reached`));
    expect(result.stdout).not.toContain("sk-in-url");
  });
});

describe("skiff completion", () => {
  const shells = ["bash", "zsh", "fish"] as const;

  /** The flags and subcommands a script offers for one command, read back out of the script. */
  function offered(shell: (typeof shells)[number], script: string, command: string): { flags: string[]; subs: string[] } {
    if (shell === "fish") {
      const lines = script.split("\n").filter((line) => line.includes(`'__fish_seen_subcommand_from ${command}`));
      return {
        flags: lines.flatMap((line) => /^complete -c skiff -n '__fish_seen_subcommand_from \S+' -l (\S+)/.exec(line)?.[1] ?? []),
        subs: lines.flatMap((line) => / -a (\S+) /.exec(line)?.[1] ?? []),
      };
    }
    const block = script.split(`\n    ${command})\n`)[1]!.split(";;")[0]!;
    if (shell === "bash") {
      return {
        flags: /flags="([^"]*)"/.exec(block)![1]!.split(" ").filter(Boolean).map((flag) => flag.slice(2)),
        subs: /subs="([^"]*)"/.exec(block)![1]!.split(" ").filter(Boolean),
      };
    }
    return {
      flags: [...block.matchAll(/'--([a-z0-9-]+)\[/g)].map((match) => match[1]!),
      subs: /'1:subcommand:\(([^)]*)\)'/.exec(block)?.[1]!.split(" ") ?? [],
    };
  }

  it("offers exactly the command table's commands, subcommands and flags, in each shell", async () => {
    for (const shell of shells) {
      const result = await runSkiff(["completion", shell]);
      expect(result.code).toBe(0);
      for (const command of commands) {
        const expected = { shell, command: command.name, flags: flagsOf(command).map((flag) => flag.name).sort(), subs: (command.subcommands ?? []).map((sub) => sub.name).sort() };
        const got = offered(shell, result.stdout, command.name);
        expect({ shell, command: command.name, flags: got.flags.sort(), subs: got.subs.sort() }).toEqual(expected);
      }
    }
    const topLevel = Bun.spawnSync(["bash", "-c", 'source /dev/stdin; COMP_WORDS=(skiff ""); COMP_CWORD=1; _skiff; echo "${COMPREPLY[*]}"'], {
      stdin: new Blob([(await runSkiff(["completion", "bash"])).stdout]),
    });
    expect(topLevel.stdout.toString().trim().split(" ").sort()).toEqual([...commands.map((c) => c.name), "--help", "--version"].sort());
  });

  it("completes commands, subcommands, flags and file values in a real bash", async () => {
    const script = (await runSkiff(["completion", "bash"])).stdout;
    const dir = tempDir();
    writeFileSync(join(dir, "skiff.bash"), script);
    writeFileSync(join(dir, "prod.toml"), "");
    const complete = (...words: string[]) => {
      const line = `source skiff.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _skiff; echo "\${COMPREPLY[*]}"`;
      return Bun.spawnSync(["bash", "-c", line], { cwd: dir }).stdout.toString().trim();
    };
    expect(complete("skiff", "doc")).toBe("doctor");
    expect(complete("skiff", "config", "sh")).toBe("show");
    expect(complete("skiff", "ask", "--max-st")).toBe("--max-steps");
    expect(complete("skiff", "doctor", "--config", "pro")).toBe("prod.toml");
    expect(complete("skiff", "ask", "--model", "")).toBe("");
    expect(complete("skiff", "completion", "f")).toBe("fish");
  });

  it.each(shells.filter((shell) => shell !== "bash" && Bun.which(shell) !== null))("writes a %s script the shell parses", async (shell) => {
    const dir = tempDir();
    writeFileSync(join(dir, `skiff.${shell}`), (await runSkiff(["completion", shell])).stdout);
    const checked = Bun.spawnSync([shell, "-n", join(dir, `skiff.${shell}`)]);
    expect({ shell, code: checked.exitCode, stderr: checked.stderr.toString() }).toEqual({ shell, code: 0, stderr: "" });
  });

  it("asks for a shell when given none or an unknown one", async () => {
    const result = await runSkiff(["completion", "powershell"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('skiff: usage: completion needs a shell: bash, zsh or fish (got "powershell"), e.g. source <(skiff completion bash)\n');
  });
});
