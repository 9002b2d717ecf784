/**
 * Fuzzing the API's query parameters (through the real Hono app and its schemas) and the CLI's
 * argument parser: never a throw past the boundary, every rejection names the parameter or flag,
 * and a flag's value (it may be a key) is never echoed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { app } from "../../../worker/api/app.ts";
import { parseFlags, UsageError, type FlagSpec } from "../../../worker/cli/args.ts";
import { RUNS } from "../fuzz/arbitraries.ts";

const TOKEN = "fuzz-api-token-0123456789";
const env = {
  API_TOKEN: TOKEN,
  METRICS_PUBLIC: "false",
  MONITORS: JSON.stringify([{ network: "testnet", account_index: 5, api_key_index: 4 }]),
  FILL_MONITOR: {
    idFromName: () => {
      throw new Error("the object is never reached in this test");
    },
    get: () => {
      throw new Error("the object is never reached in this test");
    },
  },
};

const nasty = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom("1e3", "0x10", "1.0", "-1", "0", "501", "99999999999999999999", "", " 5", "5 ", "NaN", "١٢"),
  fc.integer({ min: -10, max: 10_000 }).map(String),
);

const params: Record<string, string[]> = {
  "/checks": ["limit", "cursor", "verdict", "stage", "diagnosis", "since", "until", "detail"],
  "/logs": ["limit", "cursor", "level", "event", "check", "since", "until", "q"],
};

describe("API query parameters", () => {
  it("answer a 400 naming the parameter or reach the monitor look-up (404), never a 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(params)),
        fc.array(fc.tuple(fc.nat(7), nasty), { maxLength: 4 }),
        async (path, pairs) => {
          const names = params[path]!;
          const q = new URLSearchParams({ monitor: "not-a-configured-monitor" });
          for (const [i, v] of pairs) q.set(names[i % names.length]!, v);
          const res = await app.request(`${path}?${q}`, { headers: { Authorization: `Bearer ${TOKEN}` } }, env);
          expect([400, 404]).toContain(res.status);
          const body = (await res.json()) as { error: { status: number; message: string } };
          expect(body.error.status).toBe(res.status);
          if (res.status === 400) expect(names.some((n) => body.error.message.includes(n))).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("a client order index path parameter is validated before anything else", async () => {
    await fc.assert(
      fc.asyncProperty(nasty, async (coi) => {
        const res = await app.request(
          `/orders/${encodeURIComponent(coi)}?monitor=nope`,
          { headers: { Authorization: `Bearer ${TOKEN}` } },
          env,
        );
        expect([400, 404]).toContain(res.status);
      }),
      { numRuns: RUNS },
    );
  });
});

const specs: FlagSpec[] = [
  { name: "account", value: "N", help: "account index" },
  { name: "private-key", value: "HEX", help: "the key", optional: true },
  { name: "json", help: "print JSON", optional: true },
];

describe("CLI arguments", () => {
  it("parse or fail with a UsageError naming the flag; values are never echoed", () => {
    const secret = "0x" + "ab".repeat(40);
    const arg = fc.oneof(
      fc.constantFrom(
        "--account",
        "--acount",
        "--private-key",
        "--json",
        "--json=1",
        "--account=5",
        "-x",
        "--",
        "--help",
      ),
      fc.string({ maxLength: 12 }),
      fc.constant(secret),
      fc.constant(`--private-key=${secret}`),
      fc.constant(`--unknown=${secret}`),
    );
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (args) => {
        try {
          parseFlags(args, specs);
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          const message = (err as Error).message;
          expect(message).not.toContain(secret.slice(2, 30));
          expect(message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
