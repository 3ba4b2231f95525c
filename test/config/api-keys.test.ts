import { describe, expect, it } from "bun:test";
import { loadConfig } from "../../src/config/index.ts";
import { formatIssuePath } from "../../src/errors.ts";
import { hashApiKey, newApiKey } from "../../src/server/api-key.ts";
import { keyConfigIssues } from "../../src/server/key-checks.ts";

function load(toml: string) {
  return loadConfig({
    flags: new Map(),
    env: {},
    cwd: "/nowhere",
    configPath: "/x/skiff.toml",
    readFile: (path) => (path === "/x/skiff.toml" ? toml : undefined),
    parseToml: (text) => Bun.TOML.parse(text),
  });
}

const hashA = hashApiKey("skiff_key-a-0123456789abcdefghijklmnopqrstuv");
const hashB = hashApiKey("skiff_key-b-0123456789abcdefghijklmnopqrstuv");

describe("[[server.keys]]", () => {
  it("loads keys with their limits; hashes are kept lower-case; admin defaults to false", () => {
    const result = load(`
[[server.keys]]
name = "billing-app"
hash = "${hashA.toUpperCase().replace("SHA256:", "sha256:")}"
requests_per_minute = 60
max_concurrent = 2
tokens_per_day = 1000000
cost_per_day = 2.5
tools = ["calc", "github__*"]

[[server.keys]]
name = "ops"
hash = "${hashB}"
admin = true
`);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.value.config.server.keys).toEqual([
      { name: "billing-app", hash: hashA, requests_per_minute: 60, max_concurrent: 2, tokens_per_day: 1_000_000, cost_per_day: 2.5, tools: ["calc", "github__*"], admin: false },
      { name: "ops", hash: hashB, admin: true },
    ]);
  });

  it("names the entry, field and line of every bad key, and never echoes a hash or key", () => {
    const result = load(`
[[server.keys]]
name = "a b"
hash = "skiff_plain-key-in-the-config"
tokens_per_day = 0

[[server.keys]]
name = "costly"
hash = "${hashA}"
cost_per_day = -1

[[server.keys]]
name = "other"
hash = "${hashB}"
limit = 3
`);
    if (result.ok) throw new Error("accepted");
    const issues = result.issues.map((issue) => `${formatIssuePath(issue.path)} (${issue.source}): ${issue.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^server\.keys\[0\]\.name \(\/x\/skiff\.toml:3\): a key name is 1 to 64 of/),
      'server.keys[0].hash (/x/skiff.toml:4): expected "sha256:" and 64 hex digits, as `skiff keys new NAME` prints (the key itself never goes in the config)',
      "server.keys[0].tokens_per_day (/x/skiff.toml:5): tokens_per_day must be at least 1; leave the key out for no limit (to shut a key out, remove it and reload)",
      "server.keys[1].cost_per_day (/x/skiff.toml:10): cost_per_day must be above 0; leave the key out for no limit",
      "server.keys[2].limit (/x/skiff.toml:15): unknown key Known keys here: name, hash, requests_per_minute, max_concurrent, tokens_per_day, cost_per_day, tools, admin",
    ]);
    expect(JSON.stringify(result.issues)).not.toContain("skiff_plain-key");
    expect(JSON.stringify(result.issues)).not.toContain(hashA.slice(7));
  });

  it("refuses two entries with one name or one hash, naming the first", () => {
    const result = load(`
[[server.keys]]
name = "a"
hash = "${hashA}"
[[server.keys]]
name = "a"
hash = "${hashB}"
[[server.keys]]
name = "c"
hash = "${hashB}"
`);
    if (result.ok) throw new Error("accepted");
    expect(result.issues.map((issue) => `${issue.code} ${formatIssuePath(issue.path)}: ${issue.message}`)).toEqual([
      'conflict server.keys[1].name: "a" is also the name of server.keys[0]; names must be unique',
      'conflict server.keys[2].hash: the same hash as server.keys[1] ("a"): one key cannot be two clients; make a new one with skiff keys new',
    ]);
  });
});

describe("keyConfigIssues", () => {
  const config = (toml: string) => {
    const result = load(toml);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    return result.value.config;
  };

  it("refuses tools the service does not have and a cost budget without prices, and lets unstarted MCP tools through", () => {
    const keys = config(`
model = "gpt-4.1-mini"
[[fallback]]
model = "llama3.1"
base_url = "http://127.0.0.1:11434/v1"
[pricing."gpt-4.1-mini"]
input = 0.4
output = 1.6
[[server.keys]]
name = "app"
hash = "${hashA}"
tools = ["calc", "shell", "files__read", "web_*"]
cost_per_day = 1
`);
    expect(keyConfigIssues(keys, { names: ["calc", "time"], unlisted: ["files__"] })).toEqual([
      { code: "not_found", path: ["server", "keys", 0, "tools"], message: 'key "app": "shell" is not a tool of this service (enabled: calc, time)' },
      { code: "not_found", path: ["server", "keys", 0, "tools"], message: 'key "app": the pattern "web_*" matches no tool (enabled: calc, time)' },
      {
        code: "missing",
        path: ["server", "keys", 0, "cost_per_day"],
        message: 'key "app": a cost budget needs a price for every model a run may use; add [pricing."llama3.1"] (input and output USD per million tokens)',
      },
    ]);
  });
});

describe("newApiKey / hashApiKey", () => {
  it("makes distinct prefixed keys of 256 random bits and hashes them as sha256:<hex>", () => {
    const keys = new Set(Array.from({ length: 100 }, newApiKey));
    expect(keys.size).toBe(100);
    for (const key of keys) expect(key).toMatch(/^skiff_[A-Za-z0-9_-]{43}$/);
    expect(hashApiKey("abc")).toBe("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
