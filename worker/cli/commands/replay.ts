/**
 * `fillwatch replay`: streams recorded frames (stdin or --file), one JSON event per line to stdout
 * and a summary last. Memory stays flat for any input size: lines are split from the byte stream
 * as it arrives, a line over MAX_LINE_BYTES is skipped (counted as unexpected) without being held,
 * and output waits for the pipe to drain. Exit 2 when no line held a frame.
 */
import { createReadStream } from "node:fs";
import { Replayer } from "../../lighter/replay.ts";
import { UsageError, intFlag, type Command } from "../args.ts";
import { LineWriter, err } from "../output.ts";

/** Far above any real Lighter frame (a full order book snapshot is a few hundred KB). */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export type InputLine = { text: string } | { tooLong: number };

/**
 * Splits a byte stream into lines without ever holding more than `max` bytes of one line.
 *
 * @example
 * for await (const l of lines(process.stdin, MAX_LINE_BYTES)) if ("text" in l) console.log(l.text);
 */
export async function* lines(input: AsyncIterable<Buffer | string>, max: number): AsyncGenerator<InputLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  const take = (piece: Buffer) => {
    if (skipping || size + piece.length > max) {
      skipping = true;
      parts = [];
      size += piece.length;
      return;
    }
    parts.push(piece);
    size += piece.length;
  };
  const end = (): InputLine => {
    const l: InputLine = skipping ? { tooLong: size } : { text: Buffer.concat(parts, size).toString("utf8") };
    parts = [];
    size = 0;
    skipping = false;
    return l;
  };
  for await (const c of input) {
    const chunk = typeof c === "string" ? Buffer.from(c) : c;
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl >= 0; nl = chunk.indexOf(10, from)) {
      take(chunk.subarray(from, nl));
      from = nl + 1;
      yield end();
    }
    if (from < chunk.length) take(from === 0 ? chunk : chunk.subarray(from));
  }
  if (size > 0 || skipping) yield end();
}

export const replay: Command = {
  name: "replay",
  summary: "diagnose recorded WebSocket frames offline (NDJSON, streamed)",
  flags: [
    { name: "account", value: "N", help: "only this account's orders in the summary", optional: true },
    { name: "file", value: "PATH", help: "read this file instead of stdin", optional: true },
  ],
  details: `Each input line is a raw Lighter frame, or a record fillwatch stores: {"at":ms,"dir":"in"|"out","frame":"..."}
(a check's evidence.last_frames) or an order event (GET /orders/:coi, e.g. via jq -c '.events[]'):
a record is replayed as its inner frame and its event carries "at"; an order event without a frame
(signed, send, accepted, reconciled, ...) is listed as {"kind":"stored_event",...}; a frame cut short
when stored is {"kind":"truncated",...}.
Prints one JSON event per line, then {"summary":{...}}. Lines that are not frames (or longer than
${MAX_LINE_BYTES} bytes) are counted as "unexpected"; exit 2 when no line held a frame.`,
  async run(f) {
    const accountText = f.get("account");
    const account = accountText === undefined ? undefined : intFlag(accountText, "account", 0n, (1n << 48n) - 1n);
    const path = f.get("file");
    let input: AsyncIterable<Buffer | string> = process.stdin;
    if (path !== undefined) {
      const stream = createReadStream(path, { highWaterMark: 1 << 20 });
      await new Promise<void>((resolve, reject) => {
        stream.once("open", () => resolve());
        stream.once("error", () => reject(new UsageError(`--file: cannot read ${path}`)));
      });
      input = stream;
    }
    const r = new Replayer(account === undefined ? {} : { account });
    const w = new LineWriter();
    try {
      for await (const l of lines(input, MAX_LINE_BYTES)) {
        const ev = "text" in l ? r.line(l.text) : r.tooLong(l.tooLong, MAX_LINE_BYTES);
        if (ev) await w.line(JSON.stringify(ev));
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "read error";
      throw new UsageError(`${path === undefined ? "stdin" : `--file: ${path}`}: cannot read (${code})`);
    }
    const summary = r.summary();
    await w.line(JSON.stringify({ summary }));
    await w.flush();
    if (r.frames === 0) {
      const also = [
        r.storedEvents ? `, ${r.storedEvents} stored order events without a frame` : "",
        r.truncated ? `, ${r.truncated} stored frames cut short` : "",
      ].join("");
      err(`fillwatch: no Lighter frame in the input (${summary.unexpected} unexpected lines${also})`);
      return 2;
    }
    return 0;
  },
};
