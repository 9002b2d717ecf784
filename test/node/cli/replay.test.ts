/**
 * `fillwatch replay` as built: fillwatch's own stored records (check evidence {at, dir, frame} and
 * order events with detail.frame) replayed as their inner frames, junk lines counted as unexpected,
 * exit 2 when nothing is a frame, over-long lines skipped, --file, and a reader that closes the
 * pipe early (`| head -1`) ending quietly with exit 0.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../support/vectors.ts";
import { bin, buildCli, run, systemNode } from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "fw-replay-"));
beforeAll(buildCli);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Summary {
  frames_by_type: Record<string, number>;
  subscribed: string[];
  errors: { code: number | null; message: string }[];
  books: Record<string, { best_bid: string | null; best_ask: string | null; continuity_breaks: number }>;
  orders: { client_order_index: string; order_index: string; statuses: string[]; filled_base: string }[];
  unexpected: number;
}

function parse(stdout: string): { events: Record<string, unknown>[]; summary: Summary } {
  const lines = stdout.trimEnd().split("\n");
  const events = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { events, summary: (JSON.parse(lines.at(-1)!) as { summary: Summary }).summary };
}

const SNAPSHOT =
  '{"channel":"order_book:0","offset":1,"order_book":{"code":0,"asks":[{"price":"2325.00","size":"1.0000"}],"bids":[{"price":"2300.00","size":"1.0000"}],"offset":1,"nonce":10,"begin_nonce":0},"type":"subscribed/order_book"}';
const UPDATE =
  '{"channel":"order_book:0","offset":2,"order_book":{"code":0,"asks":[],"bids":[{"price":"2310.00","size":"2.0000"}],"offset":2,"nonce":11,"begin_nonce":10},"type":"update/order_book"}';
const orderFrame = (status: string, filled: string) =>
  `{"type":"update/account_orders","channel":"account_orders:0/7","account":7,"orders":{"0":[{"order_index":1152921504606846975,"order_id":"1152921504606846975","client_order_index":42,"client_order_id":"42","market_index":0,"owner_account_index":7,"filled_base_amount":"${filled}","filled_quote_amount":"0","status":"${status}"}]}}`;

describe("fillwatch replay", () => {
  it("replays stored check-evidence records and order events as their inner frames, with their times", () => {
    // The shapes of CheckRunner.rememberFrame (evidence.last_frames) and orderEvent (GET /orders/:coi events).
    const lines = [
      JSON.stringify({ at: 1767225600000, dir: "out", frame: '{"type":"subscribe","channel":"order_book/0"}' }),
      JSON.stringify({ at: 1767225600100, dir: "in", frame: SNAPSHOT }),
      JSON.stringify({ at: 1767225600200, dir: "in", frame: UPDATE }),
      JSON.stringify({
        at: 1767225600300,
        source: "ws",
        kind: "update",
        status: "open",
        filled_base: "0",
        detail: { order_index: "1152921504606846975", frame: orderFrame("open", "0.0000") },
      }),
      JSON.stringify({
        at: 1767225600400,
        source: "ws",
        kind: "update",
        status: "filled",
        filled_base: "50",
        detail: { order_index: "1152921504606846975", frame: orderFrame("filled", "0.0050") },
      }),
      // An order event without a frame (e.g. "signed") is listed as a timeline entry, not a frame.
      JSON.stringify({ at: 1767225600050, source: "local", kind: "signed", status: null, detail: { nonce: "9" } }),
      // rememberFrame cuts frames over 2000 characters and appends "…".
      JSON.stringify({ at: 1767225600500, dir: "in", frame: `${SNAPSHOT.slice(0, 100)}…` }),
    ];
    const r = run(["replay"], `${lines.join("\n")}\n`);
    expect(r.code, r.stderr).toBe(0);
    const { events, summary } = parse(r.stdout);
    expect(events).toHaveLength(7);
    expect(events[0]).toEqual({ kind: "sent", type: "subscribe", at: 1767225600000 });
    expect(events[1]).toMatchObject({ kind: "order_book_snapshot", market: 0, at: 1767225600100 });
    expect(events[2]).toMatchObject({ kind: "order_book_update", at: 1767225600200 });
    expect(events[4]).toMatchObject({ kind: "account_orders", at: 1767225600400 });
    expect(events[5]).toEqual({
      kind: "stored_event",
      source: "local",
      event: "signed",
      status: null,
      at: 1767225600050,
    });
    expect(events[6]).toMatchObject({
      kind: "truncated",
      reason: "frame was cut short when stored",
      at: 1767225600500,
    });
    expect(summary.frames_by_type).toEqual({
      "sent:subscribe": 1,
      "subscribed/order_book": 1,
      "update/order_book": 1,
      "update/account_orders": 2,
      "stored:local/signed": 1,
      truncated: 1,
    });
    expect(summary.books).toEqual({ "0": { best_bid: "2310.00", best_ask: "2325.00", continuity_breaks: 0 } });
    expect(summary.orders).toEqual([
      {
        client_order_index: "42",
        order_index: "1152921504606846975",
        market: 0,
        statuses: ["open", "filled"],
        filled_base: "0.0050",
      },
    ]);
    expect(summary.unexpected).toBe(0);
  });

  it("replays records recorded from the local playground (evidence.last_frames and GET /orders/:coi events)", () => {
    const rec = (name: string) => join(repoRoot, "test", "node", "cli", "recorded", name);
    const ev = run(["replay", "--file", rec("evidence-last-frames.ndjson")]);
    expect(ev.code, ev.stderr).toBe(0);
    const e = parse(ev.stdout);
    expect(e.events.every((x) => typeof x.at === "number")).toBe(true);
    expect(e.summary.frames_by_type).toEqual({
      "sent:subscribe": 4,
      connected: 2,
      truncated: 2,
      "subscribed/account_orders": 2,
      "update/account_orders": 2,
    });
    expect(e.summary.subscribed).toEqual(["account_orders:0"]);
    expect(e.summary.unexpected).toBe(0);
    const filled = run(["replay", "--file", rec("order-events-filled.ndjson")]);
    expect(filled.code, filled.stderr).toBe(0);
    const f = parse(filled.stdout);
    expect(f.events.map((x) => x.kind)).toEqual([
      "stored_event",
      "stored_event",
      "stored_event",
      "account_orders",
      "stored_event",
    ]);
    expect(f.summary.orders).toEqual([
      {
        client_order_index: "3995002719674",
        order_index: "72057594037929063",
        market: 0,
        statuses: ["filled"],
        filled_base: "0.0050",
      },
    ]);
    // The order whose fill the exchange withheld from the WebSocket: only REST and local events.
    const withheld = run(["replay", "--file", rec("order-events-withheld.ndjson")]);
    expect(withheld.code).toBe(2);
    expect(withheld.stderr).toBe(
      "fillwatch: no Lighter frame in the input (0 unexpected lines, 4 stored order events without a frame)\n",
    );
    expect(parse(withheld.stdout).events.at(-1)).toEqual({
      kind: "stored_event",
      source: "rest",
      event: "reconciled",
      status: "filled",
      at: 1795979483911,
    });
  });

  it("counts junk lines among frames as unexpected and still exits 0", () => {
    const junk = ["not json", "[1,2,3]", '{"type":"weird/thing"}', "\u0000\u0001\u00ff garbage", '"a string"'];
    const r = run(["replay"], [SNAPSHOT, ...junk, UPDATE, ""].join("\r\n"));
    expect(r.code, r.stderr).toBe(0);
    const { events, summary } = parse(r.stdout);
    expect(events.filter((e) => e.kind === "unexpected")).toHaveLength(junk.length);
    expect(summary.unexpected).toBe(junk.length);
    expect(summary.frames_by_type).toEqual({
      "subscribed/order_book": 1,
      "update/order_book": 1,
      unparseable: 2,
      untyped: 2,
      "weird/thing": 1,
    });
    expect(summary.books["0"]!.best_bid).toBe("2310.00");
  });

  it("exits 2 when no line holds a frame (junk, random bytes, empty input), still printing the summary", () => {
    for (const input of ["not json\n{}\n[]\n", ""]) {
      const r = run(["replay"], input);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^fillwatch: no Lighter frame in the input \(\d+ unexpected lines\)\n$/);
      expect(parse(r.stdout).summary.frames_by_type).not.toHaveProperty("update/order_book");
    }
    const bytes = Buffer.alloc(300_000);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = x >> 16;
    }
    writeFileSync(join(dir, "random.bin"), bytes);
    const rnd = run(["replay", "--file", join(dir, "random.bin")]);
    expect(rnd.code).toBe(2);
    const { summary } = parse(rnd.stdout);
    expect(summary.unexpected).toBeGreaterThan(100);
    expect(Object.keys(summary.frames_by_type)).toEqual(["unparseable"]);
  });

  it("keeps the summary bounded: at most 100 errors listed, the rest counted as omitted", () => {
    const errs = Array.from({ length: 150 }, (_, i) => `{"error":{"code":${20000 + i},"message":"e${i}"}}`);
    const r = run(["replay"], errs.join("\n"));
    expect(r.code, r.stderr).toBe(0);
    const { summary } = parse(r.stdout) as { summary: Summary & { omitted?: unknown } };
    expect(summary.errors).toHaveLength(100);
    expect(summary.errors[99]).toEqual({ code: 20099, message: "e99" });
    expect(summary.omitted).toEqual({ errors: 50, orders: 0 });
    expect(summary.frames_by_type).toEqual({ error: 150 });
    expect(parse(run(["replay"], errs.slice(0, 3).join("\n")).stdout).summary).not.toHaveProperty("omitted");
  });

  it("skips a line longer than 4 MiB without echoing it, counted as unexpected", () => {
    const long = `{"type":"update/order_book","pad":"${"x".repeat(5 * 1024 * 1024)}"}`;
    const r = run(["replay"], [SNAPSHOT, long, UPDATE].join("\n"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBeLessThan(10_000);
    const { events, summary } = parse(r.stdout);
    expect(events[1]).toEqual({
      kind: "unexpected",
      reason: `line of ${long.length} bytes is longer than the 4194304-byte limit`,
      raw: "",
    });
    expect(summary.unexpected).toBe(1);
    expect(summary.books["0"]!.continuity_breaks).toBe(0);
  });

  it("--file reads a file, the same as stdin; a missing file is exit 2 naming --file", () => {
    const text = [SNAPSHOT, UPDATE, orderFrame("open", "0.0000")].join("\n");
    writeFileSync(join(dir, "frames.ndjson"), text);
    const f = run(["replay", "--file", join(dir, "frames.ndjson"), "--account", "7"]);
    expect(f.code, f.stderr).toBe(0);
    expect(f).toEqual(run(["replay", "--account", "7"], text));
    expect(parse(f.stdout).summary.orders).toHaveLength(1);
    expect(parse(run(["replay", "--account", "8"], text).stdout).summary.orders).toEqual([]);
    const missing = run(["replay", "--file", join(dir, "nope.ndjson")]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toBe(`fillwatch: --file: cannot read ${join(dir, "nope.ndjson")}\n`);
    const isDir = run(["replay", "--file", dir]);
    expect(isDir.code).toBe(2);
    expect(isDir.stderr).toBe(`fillwatch: --file: ${dir}: cannot read (EISDIR)\n`);
  });

  it("`fillwatch replay … | head -1` prints one line, no stack trace, and exits 0", () => {
    const many = Array.from({ length: 60_000 }, (_, i) =>
      UPDATE.replaceAll('"nonce":11,"begin_nonce":10', `"nonce":${i + 11},"begin_nonce":${i + 10}`),
    );
    writeFileSync(join(dir, "many.ndjson"), [SNAPSHOT, ...many].join("\n"));
    const script = `"${systemNode}" "${bin}" replay --file "${join(dir, "many.ndjson")}" 2>"${join(dir, "err.txt")}" | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`;
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 60_000 });
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: "order_book_snapshot" });
    expect(r.stderr).toBe("exit=0\n");
    expect(spawnSync("cat", [join(dir, "err.txt")], { encoding: "utf8" }).stdout).toBe("");
  });
});
