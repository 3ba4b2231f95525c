/**
 * Sets string attributes within `[otel] max_attribute_bytes` (json-fit.ts does the cutting) and
 * lists every attribute that had to be cut in `skiff.truncated_attributes`, so a reader of the
 * span knows which values are incomplete.
 */
import type { Attributes } from "@opentelemetry/api";
import { type Fitted, fitJson, fitText } from "./json-fit.ts";
import { ATTR_SKIFF_TRUNCATED_ATTRIBUTES } from "./semconv.ts";

/** Sets `key` to `value` as JSON within `maxBytes` (0: no limit); returns what was set. */
export function setContent(attributes: Attributes, key: string, value: unknown, maxBytes: number): Fitted {
  return setFitted(attributes, key, fitJson(value, maxBytes));
}

/** Sets `key` to `text` within `maxBytes` (0: no limit); returns what was set. */
export function setText(attributes: Attributes, key: string, text: string, maxBytes: number): Fitted {
  return setFitted(attributes, key, fitText(text, maxBytes));
}

/** Sets `key` to an already fitted value, marking it when it was cut. */
export function setFitted(attributes: Attributes, key: string, fitted: Fitted): Fitted {
  attributes[key] = fitted.text;
  if (fitted.cut) markCut(attributes, key);
  return fitted;
}

function markCut(attributes: Attributes, key: string): void {
  const cut = attributes[ATTR_SKIFF_TRUNCATED_ATTRIBUTES];
  attributes[ATTR_SKIFF_TRUNCATED_ATTRIBUTES] = Array.isArray(cut) ? [...(cut as string[]), key] : [key];
}
