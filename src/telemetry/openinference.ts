/**
 * The OpenInference attributes skiff adds with `[otel] openinference` (and, on the request span,
 * with content capture alone): `input.value`/`output.value` with their MIME types, which Arize
 * Phoenix shows as a span's input and output, in its trace list (from the root span) and as a
 * session's first input and last output. Phoenix derives the rest (span kinds, tool fields, token
 * counts, `session.id`) from the GenAI attributes itself.
 */
import type { Attributes } from "@opentelemetry/api";
import { setFitted, setText } from "./attribute-fit.ts";
import type { Fitted } from "./json-fit.ts";
import * as sc from "./semconv.ts";

/** Sets `input.value` to plain text within `maxBytes` (0: no limit). */
export function setInputText(attributes: Attributes, text: string, maxBytes: number): void {
  setText(attributes, sc.ATTR_INPUT_VALUE, text, maxBytes);
  attributes[sc.ATTR_INPUT_MIME_TYPE] = sc.MIME_TEXT;
}

/** Sets `input.value` to JSON already fitted (the same text as the GenAI attribute it mirrors). */
export function setInputJson(attributes: Attributes, json: Fitted): void {
  setFitted(attributes, sc.ATTR_INPUT_VALUE, json);
  attributes[sc.ATTR_INPUT_MIME_TYPE] = sc.MIME_JSON;
}

/** Sets `output.value` to plain text within `maxBytes` (0: no limit). */
export function setOutputText(attributes: Attributes, text: string, maxBytes: number): void {
  setText(attributes, sc.ATTR_OUTPUT_VALUE, text, maxBytes);
  attributes[sc.ATTR_OUTPUT_MIME_TYPE] = sc.MIME_TEXT;
}

/** Sets `output.value` to JSON already fitted. */
export function setOutputJson(attributes: Attributes, json: Fitted): void {
  setFitted(attributes, sc.ATTR_OUTPUT_VALUE, json);
  attributes[sc.ATTR_OUTPUT_MIME_TYPE] = sc.MIME_JSON;
}
