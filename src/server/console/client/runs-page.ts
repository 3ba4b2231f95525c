/**
 * The runs list (#/runs): newest first, refreshed every two seconds while shown, runs waiting for
 * approval marked; a status filter and "Show more" (up to the API's 500 per page).
 */
import { el, replaceChildren, statusBadge } from "./dom.ts";
import { formatCost, formatDuration, formatTime, formatTokens } from "./format.ts";
import { errorBox, isAbort, type PageContext, poll } from "./page.ts";
import type { RunJson, RunListJson } from "./types.ts";

const statuses = ["", "requires_action", "running", "queued", "completed", "failed", "cancelled"];
const refreshMs = 2_000;
const pageStep = 50;
const maxLimit = 500;

/** Draws the runs page. */
export function runsPage(ctx: PageContext): void {
  let limit = pageStep;
  let status = "";
  const filter = el(
    "select",
    { attrs: { "aria-label": "Status" }, on: { change: () => ((status = filter.value), void refresh()) } },
    ...statuses.map((value) => el("option", { attrs: { value } }, value === "" ? "every status" : value === "requires_action" ? "needs approval" : value)),
  );
  const waiting = el("p", { className: "notice", attrs: { role: "status" } });
  const body = el("tbody");
  const problem = el("div");
  const more = el("button", { attrs: { type: "button" }, on: { click: () => ((limit = Math.min(maxLimit, limit + pageStep)), void refresh()) } }, "Show more");
  const table = el(
    "table",
    { className: "runs" },
    el("thead", {}, el("tr", {}, ...["Run", "Status", "Started", "Duration", "Tokens", "Cost"].map((title) => el("th", { attrs: { scope: "col" } }, title)))),
    body,
  );
  replaceChildren(ctx.main, el("div", { className: "toolbar" }, el("h1", {}, "Runs"), filter), waiting, problem, table, more);

  async function refresh(): Promise<void> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (status !== "") query.set("status", status);
    try {
      const list = await ctx.api.get<RunListJson>(`v1/runs?${query}`, ctx.signal);
      replaceChildren(problem);
      replaceChildren(body, ...(list.data.length === 0 ? [emptyRow()] : list.data.map(runRow)));
      more.hidden = !list.has_more || limit >= maxLimit;
      const paused = list.data.filter((run) => run.status === "requires_action").length;
      waiting.textContent = paused === 0 ? "" : `${paused} run${paused === 1 ? "" : "s"} waiting for approval`;
    } catch (error) {
      if (!isAbort(error, ctx.signal)) replaceChildren(problem, errorBox(error, "Listing runs"));
    }
  }
  poll(ctx.signal, refreshMs, refresh);
}

function runRow(run: RunJson): HTMLTableRowElement {
  return el(
    "tr",
    { className: run.status === "requires_action" ? "attention" : "", attrs: { "data-run-id": run.id, "data-status": run.status } },
    el("td", {}, el("a", { className: "mono", attrs: { href: `#/runs/${encodeURIComponent(run.id)}` } }, run.id)),
    el("td", {}, statusBadge(run.status)),
    el("td", {}, formatTime(run.created_at)),
    el("td", { className: "num" }, formatDuration(run.duration_ms)),
    el("td", { className: "num" }, formatTokens(run.usage)),
    el("td", { className: "num" }, formatCost(run.cost_usd)),
  );
}

function emptyRow(): HTMLTableRowElement {
  return el("tr", {}, el("td", { className: "muted", attrs: { colspan: "6" } }, "No runs yet. Start one from Chat, or with POST /v1/runs."));
}
