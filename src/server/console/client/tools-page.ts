/** Tools (#/tools): the enabled tools with their descriptions and JSON Schemas (GET /v1/tools). */
import { el, pre, replaceChildren } from "./dom.ts";
import { errorBox, isAbort, type PageContext } from "./page.ts";
import type { ToolJson } from "./types.ts";

/** Draws the tools page. */
export async function toolsPage(ctx: PageContext): Promise<void> {
  replaceChildren(ctx.main, el("h1", {}, "Tools"), el("p", { className: "muted" }, "Loading…"));
  try {
    const { tools } = await ctx.api.get<{ tools: readonly ToolJson[] }>("v1/tools", ctx.signal);
    replaceChildren(
      ctx.main,
      el("h1", {}, `Tools (${tools.length})`),
      tools.length === 0 ? el("p", { className: "muted" }, "No tools are enabled ([tools] enable in the config).") : null,
      ...tools.map((tool) =>
        el(
          "section",
          { className: "tool", attrs: { "data-tool": tool.name } },
          el("h2", { className: "mono" }, tool.name, " ", el("span", { className: "badge" }, [tool.type, tool.source].filter((part) => part).join(" · "))),
          el("p", {}, tool.description ?? ""),
          el("details", { attrs: { open: "" } }, el("summary", {}, "parameters (JSON Schema)"), pre(JSON.stringify(tool.parameters ?? {}, null, 2), "json")),
        ),
      ),
    );
  } catch (error) {
    if (!isAbort(error, ctx.signal)) replaceChildren(ctx.main, el("h1", {}, "Tools"), errorBox(error, "Listing tools"));
  }
}
