/** Pieces of the Prometheus text exposition format 0.0.4, shared by every /metrics renderer. */

/** A label value escaped as the format requires: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** `{a="x"}` for a series with labels, nothing for one without. */
export function braced(labelText: string): string {
  return labelText ? `{${labelText}}` : "";
}

/** The label text with one more label (a histogram bucket's `le`). */
export function withLabel(labelText: string, extra: string): string {
  return labelText ? `${labelText},${extra}` : extra;
}
