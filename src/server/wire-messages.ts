/**
 * Chat messages in OpenAI's wire form, the form clients send (`input` of /v1/runs, `messages` of
 * /v1/chat/completions) and read back (GET /v1/sessions/{id}). Converted to and from skiff's own
 * Message type here, at the edge.
 */
import { z } from "zod";
import type { Message } from "../model/messages.ts";

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const content = z.union([z.string(), z.array(textPart)], {
  error: 'expected a string or an array of {"type":"text","text":"…"} parts (images and audio are not supported)',
});

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal("function").optional(),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
  // What a provider gave to be sent back with the call (Gemini's thought signature).
  extra_content: z.record(z.string(), z.unknown()).optional(),
});

const roles = ["system", "developer", "user", "assistant", "tool"] as const;

const wireMessage = z.discriminatedUnion(
  "role",
  [
    z.object({ role: z.literal("system"), content }),
    // OpenAI's newer name for system instructions.
    z.object({ role: z.literal("developer"), content }),
    z.object({ role: z.literal("user"), content }),
    z.object({
      role: z.literal("assistant"),
      content: content.nullable().optional(),
      tool_calls: z.array(toolCall).optional(),
      // A step's reasoning, as GET /v1/sessions returns it: DeepSeek needs it back.
      reasoning_content: z.string().optional(),
      reasoning: z.string().optional(),
    }),
    z.object({ role: z.literal("tool"), tool_call_id: z.string().min(1), content }),
  ],
  { error: (issue) => (issue.code === "invalid_union" ? `role must be one of ${roles.map((r) => `"${r}"`).join(", ")}` : undefined) },
);

/** A non-empty list of chat messages, each tool message answering a call of the assistant message before it. */
export const wireMessagesSchema = z
  .array(wireMessage)
  .min(1, "needs at least one message")
  .superRefine((messages, ctx) => {
    const stray = strayToolMessage(messages);
    if (stray) ctx.addIssue({ code: "custom", path: [stray.index], message: stray.message });
  });

/**
 * The first tool message that answers no open call: a provider refuses such a conversation, so
 * it is refused here with its index instead of as a 502 from the model. Open calls are those of
 * the last assistant message, until a message of another role comes between.
 */
function strayToolMessage(messages: readonly z.output<typeof wireMessage>[]): { index: number; message: string } | undefined {
  let open = new Set<string>();
  let answered = new Set<string>();
  for (const [index, message] of messages.entries()) {
    if (message.role === "assistant") {
      open = new Set((message.tool_calls ?? []).map((call) => call.id));
      answered = new Set();
    } else if (message.role !== "tool") {
      open = new Set();
    } else if (!open.has(message.tool_call_id)) {
      const rule = 'a "tool" message must answer a tool call of the assistant message before it';
      const why = answered.has(message.tool_call_id) ? `call "${message.tool_call_id}" was already answered` : `no call has id "${message.tool_call_id}"`;
      return { index, message: `${rule}; ${why}` };
    } else {
      open.delete(message.tool_call_id);
      answered.add(message.tool_call_id);
    }
  }
  return undefined;
}

/** A message as validated from the wire. */
export type WireMessageInput = z.output<typeof wireMessage>;

/** Converts validated wire messages to skiff's; text parts are joined. */
export function fromWireMessages(messages: readonly WireMessageInput[]): Message[] {
  return messages.map((message): Message => {
    switch (message.role) {
      case "system":
      case "developer":
        return { role: "system", content: textOf(message.content) };
      case "user":
        return { role: "user", content: textOf(message.content) };
      case "tool":
        return { role: "tool", tool_call_id: message.tool_call_id, content: textOf(message.content) };
      case "assistant": {
        const text = message.content === null || message.content === undefined ? null : textOf(message.content);
        const calls = message.tool_calls ?? [];
        const reasoning = {
          ...(message.reasoning_content === undefined ? {} : { reasoning_content: message.reasoning_content }),
          ...(message.reasoning === undefined ? {} : { reasoning: message.reasoning }),
        };
        if (calls.length === 0) return { role: "assistant", content: text ?? "", ...reasoning };
        return {
          role: "assistant",
          content: text,
          tool_calls: calls.map((call) => ({
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
            ...(call.extra_content === undefined ? {} : { extra_content: call.extra_content }),
          })),
          ...reasoning,
        };
      }
      default: {
        const unknown: never = message;
        throw new Error(`unhandled role ${JSON.stringify(unknown)}`);
      }
    }
  });
}

/** The wire form of one message, as sessions are returned and can be sent back. */
export function toWireMessage(message: Message): Record<string, unknown> {
  if (message.role !== "assistant" || !message.tool_calls || message.tool_calls.length === 0) return { ...message };
  return {
    role: "assistant",
    content: message.content,
    tool_calls: message.tool_calls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.arguments },
      ...(call.extra_content === undefined ? {} : { extra_content: call.extra_content }),
    })),
    ...(message.reasoning_content === undefined ? {} : { reasoning_content: message.reasoning_content }),
    ...(message.reasoning === undefined ? {} : { reasoning: message.reasoning }),
  };
}

function textOf(value: string | readonly { readonly text: string }[]): string {
  return typeof value === "string" ? value : value.map((part) => part.text).join("");
}
