/**
 * What `[[server.keys]]` must agree with beyond its own schema: a key's tools must be tools the
 * service has, and a key's `cost_per_day` needs a price for every model its runs may use. Checked
 * by `serve` at start and on each reload, and by `skiff config check`.
 */
import { approvalPolicy } from "../agent/approval.ts";
import type { Config } from "../config/index.ts";
import { configIssue, type Issue } from "../errors.ts";
import { emptyUsage } from "../model/messages.ts";
import { priceFor } from "../model/pricing.ts";

/** The tools a config turns on, as far as they are known. */
export interface KnownTools {
  readonly names: readonly string[];
  /** Name prefixes of MCP servers not started (`skiff config check`): any tool under them may exist. */
  readonly unlisted?: readonly string[];
}

/** Every problem of the config's keys, as issues naming the key's entry and the field. */
export function keyConfigIssues(config: Config, tools: KnownTools): Issue[] {
  const issues: Issue[] = [];
  const price = priceFor(config.pricing);
  const models = [config.model, ...config.fallback.map((entry) => entry.model)];
  const unpriced = models.filter((model) => price?.(model, emptyUsage) === undefined);
  const known = new Set(tools.names);
  const unlisted = tools.unlisted ?? [];
  const available = tools.names.length === 0 ? "none are enabled" : `enabled: ${tools.names.join(", ")}`;
  config.server.keys.forEach((key, index) => {
    const at = `server.keys[${index}]`;
    for (const pattern of key.tools ?? []) {
      if (unlisted.some((prefix) => pattern.startsWith(prefix))) continue;
      const found = pattern.includes("*") ? tools.names.some(approvalPolicy([pattern])) : known.has(pattern);
      if (!found) {
        issues.push(
          configIssue(
            `${at}.tools`,
            `key "${key.name}": ${pattern.includes("*") ? `the pattern "${pattern}" matches no tool` : `"${pattern}" is not a tool of this service`} (${available})`,
            { code: "not_found" },
          ),
        );
      }
    }
    if (key.cost_per_day !== undefined && unpriced.length > 0) {
      issues.push(
        configIssue(
          `${at}.cost_per_day`,
          `key "${key.name}": a cost budget needs a price for every model a run may use; add ${unpriced.map((model) => `[pricing."${model}"]`).join(" and ")} (input and output USD per million tokens)`,
          { code: "missing" },
        ),
      );
    }
  });
  return issues;
}
