/**
 * Approvals at a terminal: each call that needs one is shown (tool and pretty-printed arguments)
 * and the person answers y (run it), n (deny, with an optional reason the model is told) or a
 * (allow this tool for the rest of the chat or run). Without a terminal nobody can answer: the run
 * pauses (`ask` exits 4 with the pending calls). `--approve` and `--yes` decide ahead of time.
 */
import { type ApprovalDecision, type ApprovalGate, approvalPolicy } from "../agent/approval.ts";
import type { ToolCall } from "../model/messages.ts";

/** Asks one question on the terminal; undefined when input has ended. */
export type AskLine = (prompt: string) => Promise<string | undefined>;

/** Where approvals come from for one command. */
export interface ApprovalSettings {
  /** `tools.require_approval`: names and globs. */
  readonly required: readonly string[];
  /** `--approve TOOL,…`: approved ahead of time. */
  readonly preApproved: readonly string[];
  /** `--yes`: every call approved (the dangerous switch). */
  readonly approveAll: boolean;
  /** Write to stderr. */
  readonly err: (text: string) => void;
  /** Asks the person; absent when there is no terminal (the run then pauses). */
  readonly askLine?: AskLine;
}

/** Times an unclear answer is asked again before the call is denied. */
const maxTries = 3;

/** The gate for `ask`/`chat`, or undefined when no tool needs approval (or `--yes`). */
export function terminalApprovals(settings: ApprovalSettings): ApprovalGate | undefined {
  if (settings.approveAll || settings.required.length === 0) return undefined;
  const needs = approvalPolicy(settings.required);
  const allowed = new Set(settings.preApproved);
  const { askLine, err } = settings;
  return {
    requires: (name) => needs(name) && !allowed.has(name),
    async decide({ calls }) {
      if (!askLine) return "pause";
      const decisions: ApprovalDecision[] = [];
      for (const call of calls) {
        // An earlier "a" in this step covers the tool's later calls too.
        if (allowed.has(call.name)) {
          decisions.push({ callId: call.id, approve: true });
          continue;
        }
        err(describeCall(call));
        decisions.push(await askFor(call, askLine, allowed, err));
      }
      return decisions;
    },
  };
}

async function askFor(call: ToolCall, askLine: AskLine, allowed: Set<string>, err: (text: string) => void): Promise<ApprovalDecision> {
  for (let tries = 0; tries < maxTries; tries++) {
    const answer = (await askLine(`allow ${call.name}? [y]es, [n]o, [a]lways for ${call.name}: `))?.trim().toLowerCase();
    if (answer === undefined) return { callId: call.id, approve: false, reason: "nobody answered (input ended)" };
    if (answer === "y" || answer === "yes") return { callId: call.id, approve: true };
    if (answer === "a" || answer === "always") {
      allowed.add(call.name);
      return { callId: call.id, approve: true };
    }
    if (answer === "n" || answer === "no") {
      const reason = (await askLine("reason (optional, told to the model): "))?.trim();
      return { callId: call.id, approve: false, ...(reason ? { reason } : {}) };
    }
    err(`please answer y, n or a\n`);
  }
  return { callId: call.id, approve: false, reason: "no clear answer was given" };
}

/** The call as a person reads it: the tool, then its arguments pretty-printed (raw when not JSON). */
export function describeCall(call: ToolCall): string {
  let args = call.arguments;
  try {
    args = JSON.stringify(JSON.parse(call.arguments === "" ? "{}" : call.arguments), null, 2);
  } catch {
    // The model sent something that is not JSON: show it as it is.
  }
  const indented = args
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
  return `\nskiff: the model wants to call ${call.name} with\n${indented}\n`;
}
