import type { Message, ToolMessage } from "../model/messages.ts";

/** The text a trimmed tool output is replaced with, so the model knows something was there. */
export const trimmedToolOutput = "[tool output trimmed to fit the context window]";

/** Rough token count of a message (about four characters a token, plus framing). */
export function estimateTokens(message: Message): number {
  let chars = (message.content ?? "").length;
  if (message.role === "assistant") for (const call of message.tool_calls ?? []) chars += call.name.length + call.arguments.length + 16;
  return Math.ceil(chars / 4) + 4;
}

/**
 * Fits the history sent to the model under `maxTokens` (approximately). First the oldest tool
 * outputs are replaced by a short marker, then the oldest whole turns are dropped (a turn runs from
 * a user message to the next, so no tool result loses its call). System messages, the last user
 * message and everything after it are never dropped; the current turn's tool outputs are trimmed
 * only when nothing else is left. Returns the input itself when it already fits.
 */
export function fitContext(messages: readonly Message[], maxTokens: number): readonly Message[] {
  const sizes = messages.map(estimateTokens);
  let total = sizes.reduce((a, b) => a + b, 0);
  if (total <= maxTokens) return messages;

  const out: (Message | undefined)[] = [...messages];
  const lastUser = findLastIndex(messages, (m) => m.role === "user");

  const trimTool = (index: number) => {
    const message = out[index] as ToolMessage;
    const replacement: ToolMessage = { role: "tool", tool_call_id: message.tool_call_id, content: trimmedToolOutput };
    const saved = sizes[index]! - estimateTokens(replacement);
    if (saved <= 0) return;
    out[index] = replacement;
    sizes[index] = estimateTokens(replacement);
    total -= saved;
  };

  // 1. The oldest tool outputs of earlier turns.
  for (let i = 0; i < lastUser && total > maxTokens; i++) {
    if (out[i]?.role === "tool") trimTool(i);
  }
  // 2. The oldest whole turns before the current one.
  let i = 0;
  while (total > maxTokens && i < lastUser) {
    const message = out[i];
    if (!message || message.role === "system") {
      i++;
      continue;
    }
    // Drop from here up to (not including) the next user message that starts a later turn.
    let end = i + 1;
    while (end < lastUser && out[end]?.role !== "user") end++;
    for (let j = i; j < end; j++) {
      if (out[j]?.role === "system") continue;
      total -= sizes[j]!;
      out[j] = undefined;
    }
    i = end;
  }
  // 3. Last resort: the current turn's tool outputs, oldest first.
  for (let k = lastUser + 1; k < out.length && total > maxTokens; k++) {
    if (out[k]?.role === "tool") trimTool(k);
  }
  return out.filter((m): m is Message => m !== undefined);
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}
