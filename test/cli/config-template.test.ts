import { describe, expect, it } from "bun:test";
import { configTemplate } from "../../src/cli/config-template.ts";
import { configLeaves, loadConfig } from "../../src/config/index.ts";

function load(text: string) {
  return loadConfig({
    flags: new Map(),
    env: {},
    cwd: "/nowhere",
    configPath: "/x/skiff.toml",
    readFile: (path) => (path === "/x/skiff.toml" ? text : undefined),
    parseToml: (source) => Bun.TOML.parse(source),
  });
}

/** The template with every commented `key = value` line switched on (placeholders left out). */
function uncommented(template: string): string {
  // The [[array]] examples at the end are samples, not defaults: leave them commented.
  const cut = template.indexOf("\n# [[");
  const head = cut === -1 ? template : template.slice(0, cut);
  return head
    .split("\n")
    .map((line) => (/^# [a-z_]+ = /.test(line) && !line.includes('"<') && !/= <[A-Z]+>$/.test(line) ? line.slice(2) : line))
    .join("\n");
}

describe("configTemplate", () => {
  it("is valid TOML that the config schema accepts, set to the demo model", () => {
    const result = load(configTemplate());
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.value.config.model).toBe("demo");
    expect(result.value.config.tools.enable).toEqual(["time", "calc"]);
  });

  it("mentions every config key, under its own table", () => {
    const template = configTemplate();
    for (const leaf of configLeaves) {
      const key = leaf.path.at(-1)!;
      const table = leaf.path.slice(0, -1).join(".");
      const arrayTable = template.includes(`# [[${leaf.key}]]`);
      const section = table === "" ? template.split("\n[")[0]! : (template.split(`\n[${table}]\n`)[1] ?? "").split("\n[")[0]!;
      expect({ key: leaf.key, found: arrayTable || new RegExp(`^(# )?${key} = `, "m").test(section) }).toEqual({ key: leaf.key, found: true });
    }
  });

  it("writes defaults that are themselves valid: switching every commented default on changes nothing", () => {
    const result = load(uncommented(configTemplate()));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const defaults = load(configTemplate());
    if (!defaults.ok) throw new Error("template invalid");
    expect(result.value.config).toEqual(defaults.value.config);
  });
});
