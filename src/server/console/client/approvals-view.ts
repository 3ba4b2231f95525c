/**
 * The calls a paused run waits for (status requires_action): each with its tool, its arguments
 * pretty-printed, an optional reason, and Approve / Deny, sent to POST /v1/runs/{id}/approvals.
 */
import { ApiError } from "./api.ts";
import { el, pre, replaceChildren } from "./dom.ts";
import { prettyJson } from "./format.ts";
import { errorBox, type PageContext } from "./page.ts";
import type { PendingApprovalJson, RunJson } from "./types.ts";

/** Draws the pending calls of `run`; `changed` gets the run object the API answers after a decision. */
export function approvalsView(ctx: PageContext, run: RunJson, changed: (run: RunJson | undefined) => void): HTMLElement {
  const pending = run.pending_approvals ?? [];
  return el(
    "section",
    { className: "approvals", attrs: { "aria-label": "Pending approvals" } },
    el("h2", {}, `Waiting for approval (${pending.length})`),
    ...pending.map((call) => pendingCard(ctx, run.id, call, changed)),
  );
}

function pendingCard(ctx: PageContext, runId: string, call: PendingApprovalJson, changed: (run: RunJson | undefined) => void): HTMLElement {
  const reason = el("input", { attrs: { type: "text", maxlength: "2000", placeholder: "Reason (optional; the model reads it when you deny)", "aria-label": `Reason for ${call.call_id}` } });
  const status = el("div", { attrs: { role: "status" } });
  const approve = el("button", { className: "approve", attrs: { type: "button" }, on: { click: () => void decide(true) } }, "Approve");
  const deny = el("button", { className: "deny", attrs: { type: "button" }, on: { click: () => void decide(false) } }, "Deny");

  async function decide(approveIt: boolean): Promise<void> {
    approve.disabled = deny.disabled = true;
    const text = reason.value.trim();
    const decision = { call_id: call.call_id, approve: approveIt, ...(text === "" ? {} : { reason: text }) };
    try {
      const run = await ctx.api.post<RunJson>(`v1/runs/${encodeURIComponent(runId)}/approvals`, { decisions: [decision] }, ctx.signal);
      replaceChildren(status, approveIt ? "Approved." : "Denied.");
      changed(run);
    } catch (error) {
      replaceChildren(status, errorBox(error, approveIt ? "Approving" : "Denying"));
      // Decided elsewhere meanwhile (409): the run object says how things stand now.
      if (error instanceof ApiError && error.status === 409) changed(undefined);
      else approve.disabled = deny.disabled = false;
    }
  }

  return el(
    "div",
    { className: "pending", attrs: { "data-call-id": call.call_id } },
    el("p", { className: "call-head" }, el("strong", {}, call.tool), ` · ${call.call_id} · step ${call.step}`),
    pre(prettyJson(call.arguments), "json"),
    el("div", { className: "decide" }, reason, approve, deny),
    status,
  );
}
