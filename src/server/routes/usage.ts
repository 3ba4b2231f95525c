/**
 * GET /v1/usage: runs, tokens and cost per key and UTC day, with each key's limits. A key sees its
 * own usage; an `admin = true` key, the single token, and callers of a server without
 * credentials see every key's, including keys since removed from the config (their bill remains).
 */
import type { KeyDayUsage } from "../../usage/usage-store.ts";
import { isUtcDay, utcDay, utcDayBefore } from "../../usage/utc-day.ts";
import { UsageStoreError } from "../../usage/usage-store.ts";
import type { AppContext, RequestInfo } from "../context.ts";
import { badRequest, HttpError } from "../http-error.ts";
import type { ApiKey } from "../key-ring.ts";
import { usageUnavailable } from "../run-errors.ts";

/** Most days one request may ask for. */
const maxDays = 366;

/** GET /v1/usage[?days=N | ?from=YYYY-MM-DD&to=YYYY-MM-DD][&key=NAME]. */
export async function getUsage(ctx: AppContext, req: Request, info: RequestInfo): Promise<Response> {
  const query = new URL(req.url, "http://x").searchParams;
  const today = utcDay(ctx.now());
  const { from, to } = dayRange(query, ctx.now(), today);
  const caller = info.caller;
  const own = caller?.kind === "key" && !caller.key.admin ? caller.key : undefined;
  const asked = query.get("key") ?? undefined;
  if (own !== undefined && asked !== undefined && asked !== own.name) {
    throw new HttpError(403, "permission_error", `key "${own.name}" may see its own usage only; an admin key (admin = true) sees every key's`, { param: "key" });
  }
  const names = own !== undefined ? [own.name] : asked !== undefined ? [asked] : undefined;
  let rows: readonly KeyDayUsage[];
  try {
    rows = await ctx.limiter.store.list({ ...(names === undefined ? {} : { keys: names }), fromDay: from, toDay: to });
  } catch (error) {
    if (error instanceof UsageStoreError) throw usageUnavailable(error, "reading usage", "retry in a moment");
    throw error;
  }
  // Configured keys first (config order), then keys that are only in the counters.
  const listed = names ?? [...new Set([...ctx.keys.names, ...rows.map((row) => row.key)])];
  const priced = ctx.limiter.priced;
  const keys = listed.map((name) => {
    const key = ctx.keys.get(name);
    const days = rows.filter((row) => row.key === name);
    // Today is always shown, at zero when nothing was counted yet: what a key has left.
    if (to === today && days[0]?.day !== today) days.unshift({ key: name, day: today, runs: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 });
    return {
      key: name,
      configured: key !== undefined,
      limits: key === undefined ? null : limitsJson(key),
      days: days.map((row) => ({
        day: row.day,
        runs: row.runs,
        input_tokens: row.inputTokens,
        output_tokens: row.outputTokens,
        cost_usd: priced ? row.costUsd : null,
      })),
    };
  });
  return Response.json({ object: "usage", today, from, to, keys });
}

function limitsJson(key: ApiKey): Record<string, unknown> {
  return {
    requests_per_minute: key.requestsPerMinute ?? null,
    max_concurrent: key.maxConcurrent ?? null,
    tokens_per_day: key.tokensPerDay ?? null,
    cost_per_day: key.costPerDay ?? null,
    tools: key.tools === undefined ? null : key.tools.map((tool) => tool.name),
    admin: key.admin,
  };
}

/** The days asked for: `days` (default 7, today included) or `from`/`to`; 400 naming the parameter. */
function dayRange(query: URLSearchParams, now: number, today: string): { from: string; to: string } {
  const from = query.get("from");
  const to = query.get("to");
  const days = query.get("days");
  if (from !== null || to !== null) {
    if (days !== null) throw badRequest("days: give either days or from/to, not both", "days");
    for (const [name, value] of [["from", from], ["to", to]] as const) {
      if (value !== null && !isUtcDay(value)) throw badRequest(`${name}: expected a UTC day as YYYY-MM-DD, got "${value}"`, name);
    }
    const range = { from: from ?? to!, to: to ?? today };
    if (range.from > range.to) throw badRequest(`from: ${range.from} is after to (${range.to})`, "from");
    const span = (Date.parse(range.to) - Date.parse(range.from)) / 86_400_000 + 1;
    if (span > maxDays) throw badRequest(`from: the range covers ${span} days; ask for ${maxDays} at most`, "from");
    return range;
  }
  const count = days === null ? 7 : /^\d+$/.test(days) ? Number(days) : Number.NaN;
  if (!(count >= 1 && count <= maxDays)) throw badRequest(`days: expected a whole number from 1 to ${maxDays}, got "${days}"`, "days");
  return { from: utcDayBefore(now, count - 1), to: today };
}
