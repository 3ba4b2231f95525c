import { describe, expect, it } from "bun:test";
import { type Config, loadConfig } from "../../src/config/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { hashApiKey } from "../../src/server/api-key.ts";
import { KeyRing } from "../../src/server/key-ring.ts";
import { parseListen } from "../../src/server/listen.ts";
import { createLogger } from "../../src/server/logger.ts";
import { keyReloader } from "../../src/server/reload-keys.ts";

const keyA = "skiff_reload-a-0123456789abcdefghijklmnopqrstu";
const keyB = "skiff_reload-b-0123456789abcdefghijklmnopqrstu";

function config(toml: string): Config {
  const result = loadConfig({ flags: new Map(), env: {}, cwd: "/x", configPath: "/x/skiff.toml", readFile: () => toml, parseToml: (text) => Bun.TOML.parse(text) });
  if (!result.ok) throw new ConfigError(result.issues);
  return result.value.config;
}

const entry = (name: string, key: string, extra = "") => `[[server.keys]]\nname = "${name}"\nhash = "${hashApiKey(key)}"\n${extra}\n`;
const bearer = (key: string) => new Request("http://x/v1/runs", { headers: { authorization: `Bearer ${key}` } });

function setup(listen: string, first: string) {
  let file = first;
  const logs: Record<string, unknown>[] = [];
  const started = config(first);
  const keys = new KeyRing({ keys: started.server.keys }, []);
  const reload = keyReloader({
    keys,
    load: () => config(file),
    started,
    secrets: { env: {}, readFile: () => undefined },
    address: parseListen(listen),
    toolNames: ["time", "calc"],
    logger: createLogger({ level: "debug", format: "json", write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
  });
  return { keys, logs, reload, write: (text: string) => (file = text) };
}

describe("keyReloader", () => {
  it("swaps the keys, naming those added and removed, and warns when other settings changed too", () => {
    const { keys, logs, reload, write } = setup("127.0.0.1:8080", entry("a", keyA));
    write(`max_steps = 3\n${entry("b", keyB)}`);
    reload();
    expect(() => keys.authenticate(bearer(keyA))).toThrow(/not valid/);
    expect(keys.authenticate(bearer(keyB))).toMatchObject({ kind: "key", key: { name: "b" } });
    expect(logs.map((line) => [line["msg"], line["added"], line["removed"]])).toEqual([
      ["keys reloaded", "b", "a"],
      ["settings besides server.keys and the auth token changed in the config; they take effect after a restart", undefined, undefined],
    ]);
  });

  it("keeps the keys in use when the new ones name a tool the service lacks, or would leave a public listener without credentials", () => {
    const { keys, logs, reload, write } = setup("0.0.0.0:8080", entry("a", keyA));
    write(entry("a", keyA, 'tools = ["shell"]'));
    reload();
    write("");
    reload();
    expect(keys.authenticate(bearer(keyA))).toMatchObject({ kind: "key" });
    expect(logs.map((line) => line["msg"])).toEqual(["reload failed; the keys and token in use stay", "reload failed; the keys and token in use stay"]);
    expect(String(logs[0]!["reason"])).toBe('server.keys[0].tools: key "a": "shell" is not a tool of this service (enabled: time, calc)');
    expect(String(logs[1]!["reason"])).toContain("would expose the API to the network without authentication");
  });
});
