import { describe, expect, it } from "bun:test";
import { defaultOutboundBudget } from "../../src/tools/outbound.ts";

describe("defaultOutboundBudget", () => {
  const limits = (soft: string) => () =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${soft}                20000                files     \n`;

  it("is 40% of the open-file limit, within 64..16384", () => {
    expect(defaultOutboundBudget(limits("20000"))).toBe(8000);
    expect(defaultOutboundBudget(limits("100"))).toBe(64);
    expect(defaultOutboundBudget(limits("1048576"))).toBe(16_384);
    expect(defaultOutboundBudget(limits("unlimited"))).toBe(16_384);
    expect(defaultOutboundBudget(() => undefined)).toBe(1024);
  });

  it("reads this process's limit from /proc on Linux", () => {
    expect(defaultOutboundBudget()).toBeGreaterThanOrEqual(64);
  });
});
