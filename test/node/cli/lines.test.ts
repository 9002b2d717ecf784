/**
 * The replay line splitter (worker/cli/commands/replay.ts `lines`): lines split across chunks at
 * any byte (including inside a multi-byte UTF-8 character), CRLF, a last line without a newline,
 * and lines over the limit reported by size without being kept.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lines, type InputLine } from "../../../worker/cli/commands/replay.ts";

async function collect(chunks: Buffer[], max: number): Promise<InputLine[]> {
  async function* gen() {
    for (const c of chunks) yield c;
  }
  const out: InputLine[] = [];
  for await (const l of lines(gen(), max)) out.push(l);
  return out;
}

function cut(buf: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of sorted) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  out.push(buf.subarray(from));
  return out;
}

describe("replay line splitter", () => {
  it("gives the same lines however the bytes are chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: "grapheme", maxLength: 30 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (texts, points) => {
          const clean = texts.map((t) => t.replace(/\n/g, " "));
          const buf = Buffer.from(clean.map((t) => `${t}\n`).join(""));
          const got = await collect(cut(buf, points), 1 << 20);
          expect(got).toEqual(clean.map((text) => ({ text })));
        },
      ),
    );
  });

  it("keeps a last line without a newline and leaves \\r to the caller", async () => {
    expect(await collect([Buffer.from("a\r\nb")], 100)).toEqual([{ text: "a\r" }, { text: "b" }]);
    expect(await collect([], 100)).toEqual([]);
  });

  it("reports an over-long line by size, across chunks, and resumes at the next line", async () => {
    const long = "x".repeat(250);
    const chunks = cut(Buffer.from(`ok\n${long}\nnext\n${long}`), [5, 60, 120, 200, 256, 300]);
    expect(await collect(chunks, 100)).toEqual([{ text: "ok" }, { tooLong: 250 }, { text: "next" }, { tooLong: 250 }]);
    expect(await collect([Buffer.from("x".repeat(100))], 100)).toEqual([{ text: "x".repeat(100) }]);
  });
});
