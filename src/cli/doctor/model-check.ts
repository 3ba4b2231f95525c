import { SkiffError } from "../../errors.ts";
import { type CheckContext, type CheckResult, type DoctorCheck, result } from "./check.ts";
import { isLocalHost } from "../../util/local-host.ts";
import { redactUrl } from "../../util/redact-url.ts";
import { bodyMessage, probe, redact } from "./probe.ts";

/** One OpenAI-compatible endpoint to check: the primary model or a `[[fallback]]`. */
export interface ModelEndpoint {
  /** `model` or `fallback[0]`. */
  readonly name: string;
  readonly model: string;
  readonly baseUrl: string;
  /** Reads the API key (undefined: none configured); throws a ConfigError naming the key when it cannot. */
  readonly apiKey: (context: CheckContext) => string | undefined;
  /** Where this endpoint is configured, for the fix text, e.g. "base_url (--base-url, SKIFF_BASE_URL)". */
  readonly where: string;
  /** Where its key is looked for, e.g. "api_key_file (--api-key-file, SKIFF_API_KEY_FILE), then OPENAI_API_KEY". */
  readonly keyFrom: string;
}

/**
 * Checks that the endpoint answers as an OpenAI-compatible API and accepts the key: `GET /models`,
 * and when an endpoint has no model list (404/405), a 1-token chat completion instead.
 */
export function modelCheck(endpoint: ModelEndpoint): DoctorCheck {
  return { name: endpoint.name, run: (context) => checkModel(endpoint, context) };
}

async function checkModel(endpoint: ModelEndpoint, context: CheckContext): Promise<CheckResult> {
  let key: string | undefined;
  try {
    key = endpoint.apiKey(context);
  } catch (error) {
    const message = error instanceof SkiffError ? error.message : String(error);
    return result.fail(`cannot read the API key: ${message}`, "point api_key_file at a readable file holding the key, or set OPENAI_API_KEY");
  }
  const base = endpoint.baseUrl.replace(/\/+$/, "");
  // Said before any request: offline, a public endpoint without a key fails as a DNS error instead.
  if (key === undefined && !isLocalHost(new URL(base).hostname)) {
    return result.fail(
      `no API key is set for ${redactUrl(base)}: looked in ${endpoint.keyFrom}, and neither is set`,
      "set one (export OPENAI_API_KEY=sk-…), or point base_url at a local server such as http://127.0.0.1:11434/v1, which needs no key",
    );
  }
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  const listUrl = `${base}/models`;
  // Messages show the URLs without the credentials a base_url may carry (user:password@, ?key=).
  const shown = { base: redactUrl(base), list: redactUrl(listUrl), chat: redactUrl(`${base}/chat/completions`) };
  const listed = await probe(context, listUrl, { headers });
  if (!listed.ok) {
    return result.fail(
      `${endpoint.model} at ${shown.list}: ${listed.reason}`,
      `start the model server, or correct ${endpoint.where}`,
    );
  }
  const rejected = authFailure(listed.status, shown.list, key);
  if (rejected) return rejected;
  if (listed.status >= 200 && listed.status < 300) return judgeList(endpoint, shown.list, listed.body, listed.ms);

  // Some servers have no model list; a 1-token completion proves the endpoint and the model.
  const chatUrl = `${base}/chat/completions`;
  const chat = await probe(context, chatUrl, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ model: endpoint.model, messages: [{ role: "user", content: "ping" }], max_tokens: 1 }),
  });
  if (!chat.ok) return result.fail(`${endpoint.model} at ${shown.chat}: ${chat.reason}`, `start the model server, or correct ${endpoint.where}`);
  const chatRejected = authFailure(chat.status, shown.chat, key);
  if (chatRejected) return chatRejected;
  if (chat.status >= 200 && chat.status < 300) {
    return result.ok(`${endpoint.model} at ${shown.base}: POST /chat/completions → ${chat.status} (${chat.ms} ms; GET /models → ${listed.status})`);
  }
  const said = redact(bodyMessage(chat.body), [key]);
  if (listed.status === 404 && chat.status === 404) {
    return result.fail(
      `no OpenAI-compatible API at ${shown.base}: GET /models and POST /chat/completions both → 404`,
      `correct ${endpoint.where}; it usually ends in /v1, e.g. http://127.0.0.1:11434/v1`,
    );
  }
  return result.fail(
    `${endpoint.model} at ${shown.chat} → ${chat.status}${said ? `: ${said}` : ""}`,
    chat.status === 400 || chat.status === 404 ? "check the model name (model, --model)" : "see the endpoint's message above",
  );
}

function authFailure(status: number, url: string, key: string | undefined): CheckResult | undefined {
  if (status !== 401 && status !== 403) return undefined;
  return key
    ? result.fail(`${url} → ${status}: the endpoint rejected the API key`, "set OPENAI_API_KEY or api_key_file to a valid key for this endpoint")
    : result.fail(`${url} → ${status}: the endpoint wants an API key and none is set`, "set OPENAI_API_KEY, or api_key_file in skiff.toml");
}

function judgeList(endpoint: ModelEndpoint, url: string, body: string, ms: number): CheckResult {
  const ids = modelIds(body);
  if (ids === undefined) {
    return result.warn(`${url} answered, but not with a model list (${ms} ms)`, `check that ${endpoint.where} is an OpenAI-compatible API`);
  }
  if (ids.length > 0 && !ids.includes(endpoint.model)) {
    const some = ids.slice(0, 5).join(", ") + (ids.length > 5 ? `, … (${ids.length} in all)` : "");
    return result.warn(
      `${url} → 200 (${ms} ms), but "${endpoint.model}" is not among its models: ${some}`,
      "set model (--model, SKIFF_MODEL) to one the endpoint lists",
    );
  }
  return result.ok(`${endpoint.model} at ${url} → 200 (${ms} ms${ids.length > 0 ? ", model listed" : ""})`);
}

function modelIds(body: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const data = typeof parsed === "object" && parsed !== null ? (parsed as { data?: unknown }).data : undefined;
    if (!Array.isArray(data)) return undefined;
    return data.flatMap((entry: unknown) =>
      typeof entry === "object" && entry !== null && typeof (entry as { id?: unknown }).id === "string" ? [(entry as { id: string }).id] : [],
    );
  } catch {
    return undefined;
  }
}
