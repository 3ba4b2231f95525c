/**
 * Usage (#/usage), shown when the server answers GET /v1/usage (API keys): one row per key and UTC
 * day (runs, tokens, cost), or the answer as JSON when it has some other shape.
 */
import { el, pre, replaceChildren } from "./dom.ts";
import { errorBox, isAbort, type PageContext } from "./page.ts";

type Row = Readonly<Record<string, unknown>>;

const columns = ["key", "day", "runs", "input_tokens", "output_tokens", "cost_usd"] as const;

/** Draws the usage page. */
export async function usagePage(ctx: PageContext): Promise<void> {
  replaceChildren(ctx.main, el("h1", {}, "Usage"), el("p", { className: "muted" }, "Loading…"));
  try {
    const usage = await ctx.api.get<unknown>("v1/usage", ctx.signal);
    const rows = usageRows(usage);
    const period = isRecord(usage) && typeof usage["from"] === "string" ? `${usage["from"]} to ${String(usage["to"])} (UTC days)` : "";
    replaceChildren(
      ctx.main,
      el("h1", {}, "Usage"),
      el("p", { className: "muted" }, period),
      rows === undefined ? pre(JSON.stringify(usage, null, 2), "json") : rows.length === 0 ? el("p", { className: "muted" }, "Nothing counted in this period.") : table(rows),
    );
  } catch (error) {
    if (!isAbort(error, ctx.signal)) replaceChildren(ctx.main, el("h1", {}, "Usage"), errorBox(error, "Reading usage"));
  }
}

/** `{"keys":[{"key","days":[{"day","runs",…}]}]}` as one row per key and day; undefined for another shape. */
export function usageRows(value: unknown): Row[] | undefined {
  if (!isRecord(value) || !Array.isArray(value["keys"])) return undefined;
  const rows: Row[] = [];
  for (const entry of value["keys"] as unknown[]) {
    if (!isRecord(entry) || !Array.isArray(entry["days"])) return undefined;
    for (const day of entry["days"] as unknown[]) if (isRecord(day)) rows.push({ key: entry["key"], ...day });
  }
  return rows;
}

function isRecord(value: unknown): value is Row {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function table(rows: readonly Row[]): HTMLTableElement {
  const cell = (value: unknown) => (value === undefined || value === null ? "—" : String(value));
  return el(
    "table",
    { className: "usage" },
    el("thead", {}, el("tr", {}, ...columns.map((column) => el("th", { attrs: { scope: "col" } }, column.replace("_", " "))))),
    el("tbody", {}, ...rows.map((row) => el("tr", {}, ...columns.map((column) => el("td", { className: column === "key" || column === "day" ? "" : "num" }, cell(row[column])))))),
  );
}
