/**
 * One run (#/runs/{id}): its state, the calls it waits for, its events streamed live, and once it
 * ends its answer (or error) and its span tree. The run object is read again whenever an event
 * says its state moved, so the page shows what every replica sees.
 */
import { ApiError } from "./api.ts";
import { approvalsView } from "./approvals-view.ts";
import { el, pre, replaceChildren, statusBadge } from "./dom.ts";
import { formatCost, formatDuration, formatTime, formatTokens } from "./format.ts";
import { errorBox, isAbort, type PageContext } from "./page.ts";
import { RunTimeline } from "./run-timeline.ts";
import { runSpanTreeText } from "./span-tree.ts";
import { isFinished, type RunJson } from "./types.ts";

/** Events after which the run object has changed. */
const stateEvents = new Set(["run.queued", "run.started", "run.resumed", "run.requires_action", "approval.decided", "run.completed", "run.failed", "run.cancelled"]);

/** Draws the page of run `id`. */
export async function runPage(ctx: PageContext, id: string): Promise<void> {
  const head = el("section", { className: "run-head" });
  const approvals = el("div");
  const timeline = new RunTimeline(el("div", { className: "timeline" }));
  const outcome = el("section", { className: "outcome" });
  const problem = el("div");
  replaceChildren(
    ctx.main,
    el("p", {}, el("a", { attrs: { href: "#/runs" } }, "← Runs")),
    head,
    problem,
    approvals,
    el("section", { className: "events" }, el("h2", {}, "Events"), timeline.root),
    outcome,
  );

  let latest = 0;
  const show = (run: RunJson) => {
    replaceChildren(head, ...headOf(ctx, run, refresh));
    replaceChildren(approvals, run.status === "requires_action" ? approvalsView(ctx, run, (next) => (next ? show(next) : void refresh())) : null);
    replaceChildren(outcome, ...outcomeOf(run, timeline.modelStarts));
  };
  async function refresh(): Promise<void> {
    // Answers may arrive out of order; only the newest request's is drawn.
    const mine = ++latest;
    try {
      const run = await ctx.api.get<RunJson>(`v1/runs/${encodeURIComponent(id)}`, ctx.signal);
      if (mine === latest) show(run);
    } catch (error) {
      if (!isAbort(error, ctx.signal)) replaceChildren(problem, errorBox(error, "Reading the run"));
    }
  }

  await refresh();
  try {
    const ended = await ctx.api.followRun(
      id,
      (event) => {
        timeline.apply(event);
        if (stateEvents.has(event.event)) void refresh();
      },
      { signal: ctx.signal },
    );
    if (ended === "gave_up") replaceChildren(problem, el("p", { className: "error" }, "Lost the run's event stream; reload the page to try again."));
  } catch (error) {
    if (isAbort(error, ctx.signal)) return;
    if (!(error instanceof ApiError && error.status === 404)) replaceChildren(problem, errorBox(error, "Following the run's events"));
  }
}

function headOf(ctx: PageContext, run: RunJson, refresh: () => Promise<void>): HTMLElement[] {
  const facts: [string, string][] = [
    ["Session", run.session_id ?? "—"],
    ["Started", formatTime(run.created_at)],
    ["Attempt", String(run.attempt ?? 1)],
    ["Duration", formatDuration(run.duration_ms ?? run.partial?.duration_ms)],
    ["Tokens", formatTokens(run.usage ?? run.partial?.usage)],
    ["Cost", formatCost(run.cost_usd ?? run.partial?.cost_usd)],
  ];
  const cancel = el(
    "button",
    {
      className: "deny",
      attrs: { type: "button" },
      on: {
        click: () => {
          cancel.disabled = true;
          ctx.api.post(`v1/runs/${encodeURIComponent(run.id)}/cancel`, {}, ctx.signal).then(refresh, (error: unknown) => {
            cancel.disabled = false;
            cancel.after(errorBox(error, "Cancelling"));
          });
        },
      },
    },
    "Cancel run",
  );
  return [
    el("h1", { className: "run-title" }, el("span", { className: "mono" }, run.id), " ", statusBadge(run.status)),
    el("dl", { className: "facts" }, ...facts.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)])),
    isFinished(run.status) ? el("span") : cancel,
  ];
}

function outcomeOf(run: RunJson, modelStarts: ReadonlyMap<number, number>): HTMLElement[] {
  if (!isFinished(run.status)) return [];
  const parts: HTMLElement[] = [];
  if (run.status === "completed") {
    parts.push(el("h2", {}, "Answer"), pre(run.output ?? "", "text answer"));
  } else {
    const error = run.error ?? {};
    parts.push(el("h2", {}, run.status === "cancelled" ? "Cancelled" : "Failed"), el("p", { className: "error" }, [error.type ?? error.code, error.message].filter((part) => part).join(": ")));
    if (run.partial?.output) parts.push(el("p", { className: "label" }, "answer so far"), pre(run.partial.output, "text answer"));
  }
  const tree = runSpanTreeText(run, modelStarts);
  if (tree !== undefined) parts.push(el("h2", {}, "Trace"), pre(tree, "tree"));
  return parts;
}
