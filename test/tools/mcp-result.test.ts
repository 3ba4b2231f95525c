import { describe, expect, it } from "bun:test";
import { base64ByteLength, renderMcpResult } from "../../src/tools/mcp/mcp-result.ts";

/** A PNG signature padded or cut to `size` bytes: real binary data, not text. */
function payload(size: number): Buffer {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
  return png.subarray(0, size);
}

describe("renderMcpResult", () => {
  it.each([8, 9, 10])("shows a %i-byte image as %i bytes (padding is not data)", (size) => {
    const data = payload(size).toString("base64");
    const text = renderMcpResult({ content: [{ type: "image", mimeType: "image/png", data }] }, '"shot" of MCP server "s"');
    expect(text).toBe(`[image image/png, ${size} bytes, not shown]`);
  });

  it("counts audio the same way", () => {
    const data = payload(10).toString("base64");
    expect(renderMcpResult({ content: [{ type: "audio", mimeType: "audio/wav", data }] }, "t")).toBe("[audio audio/wav, 10 bytes, not shown]");
  });
});

describe("base64ByteLength", () => {
  it("matches the decoded length for padded, unpadded and line-wrapped base64 of 0 to 64 bytes", () => {
    for (let size = 0; size <= 64; size++) {
      const bytes = Buffer.alloc(size, 0xab);
      const padded = bytes.toString("base64");
      const unpadded = padded.replace(/=+$/, "");
      const wrapped = padded.replace(/(.{8})/g, "$1\n");
      expect([size, base64ByteLength(padded), base64ByteLength(unpadded), base64ByteLength(wrapped)]).toEqual([size, size, size, size]);
    }
  });
});
