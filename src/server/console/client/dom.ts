/**
 * The console's only way to make DOM: elements with text children. Strings become text nodes, so
 * whatever a model or a tool wrote is shown as characters and never parsed as HTML; attributes
 * that run code (`on…`) or load things (`src`, `style`) are refused. The page's CSP (Trusted
 * Types) makes every HTML sink throw besides.
 */

/** A child: a node, or text (shown as text); null, undefined and false are skipped. */
export type Child = Node | string | null | undefined | false;

/** What an element is made with. */
export interface Props {
  readonly className?: string;
  /** Plain attributes (`href`, `type`, `aria-label`…). */
  readonly attrs?: Readonly<Record<string, string>>;
  /** Listeners, by event name (`click`, `submit`). */
  readonly on?: Readonly<Record<string, (event: Event) => void>>;
}

const refusedAttributes = /^(on|style$|src$|srcdoc$|formaction$)/i;

/** Makes `<tag>` with the props and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: readonly Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (refusedAttributes.test(name)) throw new Error(`el(): attribute "${name}" is not allowed; use props.on for listeners`);
    if (name === "href" && !value.startsWith("#")) throw new Error(`el(): href "${value}" is not a link inside the console`);
    node.setAttribute(name, value);
  }
  for (const [event, listener] of Object.entries(props.on ?? {})) node.addEventListener(event, listener);
  append(node, ...children);
  return node;
}

/** Appends children, strings as text nodes. */
export function append(parent: Node, ...children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: readonly Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A `<pre>` of text (JSON, tool output, the span tree). */
export function pre(text: string, className = ""): HTMLPreElement {
  return el("pre", className === "" ? {} : { className }, text);
}

/** A status badge; `requires_action` reads "needs approval". */
export function statusBadge(status: string): HTMLSpanElement {
  return el("span", { className: `badge status-${status.replace(/[^a-z_]/g, "")}` }, status === "requires_action" ? "needs approval" : status);
}
