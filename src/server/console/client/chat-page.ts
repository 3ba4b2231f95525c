/**
 * Chat (#/chat): a session with answers streamed as the model writes them (POST /v1/runs with
 * `"stream": true` and the session's id). The session id is kept for this tab, so a reload shows
 * the conversation again (GET /v1/sessions/{id}); "New conversation" starts another.
 */
import { ApiError } from "./api.ts";
import { append, el, pre, replaceChildren } from "./dom.ts";
import { prettyJson } from "./format.ts";
import { errorBox, isAbort, type PageContext } from "./page.ts";
import type { SessionJson, SessionMessageJson } from "./types.ts";

const sessionKey = "skiff.console.session";

/** Draws the chat page. */
export async function chatPage(ctx: PageContext): Promise<void> {
  let sessionId = sessionStorage.getItem(sessionKey) ?? newSessionId();
  const sessionLabel = el("span", { className: "mono" }, sessionId);
  const log = el("div", { className: "chat-log", attrs: { "aria-live": "polite" } });
  const input = el("textarea", { attrs: { rows: "3", "aria-label": "Message", placeholder: "Ask something…", required: "" } });
  const send = el("button", { attrs: { type: "submit" } }, "Send");
  const stop = el("button", { attrs: { type: "button" } }, "Stop");
  stop.hidden = true;
  const form = el("form", { className: "chat-form", on: { submit: (event) => (event.preventDefault(), void ask()) } }, input, send, stop);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) (event.preventDefault(), form.requestSubmit());
  });
  const restart = el("button", { attrs: { type: "button" }, on: { click: () => ((sessionId = newSessionId()), (sessionLabel.textContent = sessionId), replaceChildren(log)) } }, "New conversation");
  replaceChildren(ctx.main, el("div", { className: "toolbar" }, el("h1", {}, "Chat"), el("span", { className: "muted" }, "session ", sessionLabel), restart), log, form);

  async function ask(): Promise<void> {
    const text = input.value.trim();
    if (text === "") return;
    sessionStorage.setItem(sessionKey, sessionId);
    input.value = "";
    append(log, bubble("user", text));
    const answer = el("pre", { className: "text" });
    const tools = el("div");
    const meta = el("p", { className: "muted" });
    append(log, el("div", { className: "bubble assistant" }, tools, answer, meta));
    const turn = new AbortController();
    const signal = AbortSignal.any([ctx.signal, turn.signal]);
    stop.onclick = () => turn.abort();
    send.disabled = true;
    stop.hidden = false;
    const calls = new Map<string, HTMLElement>();
    try {
      for await (const event of ctx.api.postStream("v1/runs", { input: text, session_id: sessionId, stream: true }, signal)) {
        const data = JSON.parse(event.data) as Record<string, unknown>;
        if (event.event === "run.started" && typeof data["id"] === "string") {
          replaceChildren(meta, el("a", { attrs: { href: `#/runs/${encodeURIComponent(data["id"])}` } }, data["id"]));
        } else if (event.event === "model.delta") {
          answer.textContent += String(data["text"] ?? "");
        } else if (event.event === "tool.started") {
          const line = el("p", { className: "tool-line" }, `${String(data["name"])} ${prettyJson(String(data["arguments"] ?? ""))} …`);
          calls.set(String(data["call_id"]), line);
          append(tools, line);
          answer.textContent = "";
        } else if (event.event === "tool.finished") {
          calls.get(String(data["call_id"]))?.replaceWith(toolLine(String(data["name"]), String(data["output"] ?? ""), data["ok"] === true));
        } else if (event.event === "run.completed") {
          answer.textContent = String(data["output"] ?? "");
        } else if (event.event === "run.requires_action") {
          append(meta, " · waits for approval: open the run to decide");
        } else if (event.event === "run.failed") {
          const error = (data["error"] ?? {}) as { message?: string };
          append(log, el("p", { className: "error", attrs: { role: "alert" } }, `The run failed: ${error.message ?? event.data}`));
        }
      }
    } catch (error) {
      if (turn.signal.aborted) append(meta, " · stopped");
      else if (!isAbort(error, ctx.signal)) append(log, errorBox(error, error instanceof ApiError && error.status === 409 ? "Sending (the session is busy)" : "Sending"));
    } finally {
      send.disabled = false;
      stop.hidden = true;
    }
  }

  try {
    const session = await ctx.api.get<SessionJson>(`v1/sessions/${encodeURIComponent(sessionId)}`, ctx.signal);
    replaceChildren(log, ...session.messages.map(storedMessage));
  } catch (error) {
    // A new session has no messages yet (404); anything else is worth saying.
    if (!(error instanceof ApiError && error.status === 404) && !isAbort(error, ctx.signal)) append(log, errorBox(error, "Loading the conversation"));
  }
  input.focus();
}

function bubble(role: "user" | "assistant", text: string): HTMLElement {
  return el("div", { className: `bubble ${role}` }, pre(text, "text"));
}

function toolLine(name: string, output: string, ok: boolean): HTMLElement {
  const short = output.length > 300 ? `${output.slice(0, 300)}…` : output;
  return el("p", { className: `tool-line ${ok ? "ok" : "failed"}` }, `${name} → ${short}`);
}

function storedMessage(message: SessionMessageJson): HTMLElement | string {
  if (message.role === "tool") return toolLine("result", message.content ?? "", true);
  if (message.role === "assistant" && !message.content) {
    const names = (message.tool_calls ?? []).map((call) => call.function?.name ?? "?").join(", ");
    return el("p", { className: "tool-line" }, `called ${names}`);
  }
  return bubble(message.role === "user" ? "user" : "assistant", message.content ?? "");
}

/** A session id for this tab: `console-` and 16 random hex characters. */
function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
