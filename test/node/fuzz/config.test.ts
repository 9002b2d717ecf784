/**
 * Fuzzing MONITORS parsing (loadConfig) and `config check`: never a throw, every problem names a
 * setting and a fix, a rejected mutated field is named, and hostile bytes are handled.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkConfigFiles } from "../../../worker/config-check.ts";
import { loadConfig, type ConfigProblem } from "../../../worker/config.ts";
import { RUNS, mutate, mutationsArb, setPath, stringifyBig } from "./arbitraries.ts";

const good = {
  network: "testnet",
  account_index: 5n,
  api_key_index: 4n,
  markets: [0n, 1n],
  mode: "continuous",
  schedule: "*/5 * * * *",
  max_notional_per_order_usd: 20,
  max_orders_per_day: 100n,
  max_spread_bps: 80,
  time_scale: 1,
  location_hint: "weur",
  dry_run: false,
  private_key_secret: "LIGHTER_PRIVATE_KEY__BOT",
  alerts: {
    fail_after: 2n,
    heartbeat_url: "https://hc.example/ping",
    targets: [
      { type: "slack", url_secret: "ALERT_SLACK" },
      { type: "webhook", url: "https://hooks.example/x", secret_name: "ALERT_HMAC" },
      { type: "telegram", secret_name: "ALERT_TG", chat_id: "-1" },
    ],
  },
};
const env = { API_TOKEN: "t", LIGHTER_PRIVATE_KEY__BOT: "0x1", ALERT_SLACK: "u", ALERT_HMAC: "h", ALERT_TG: "g" };
const CRONS = '[triggers]\ncrons = ["*/5 * * * *", "17 3 * * *"]\n';

/** The fields a mutation may hit, and the settings a rejection may name. */
const FIELDS: [(string | number)[], string[]][] = [
  [["network"], ["network", "rest_url", "ws_url", "chain_id"]],
  [["account_index"], ["account_index"]],
  [["api_key_index"], ["api_key_index"]],
  [["markets"], ["markets"]],
  [["markets", 1], ["markets"]],
  [["mode"], ["mode"]],
  [["schedule"], ["schedule"]],
  [["max_notional_per_order_usd"], ["max_notional_per_order_usd"]],
  [["max_orders_per_day"], ["max_orders_per_day"]],
  [["time_scale"], ["time_scale"]],
  [["location_hint"], ["location_hint"]],
  [["dry_run"], ["dry_run"]],
  [["private_key_secret"], ["private_key_secret"]],
  [["alerts"], ["alerts"]],
  [["alerts", "fail_after"], ["alerts.fail_after"]],
  [["alerts", "heartbeat_url"], ["alerts.heartbeat_url"]],
  [["alerts", "targets"], ["alerts.targets"]],
  [["alerts", "targets", 0], ["alerts.targets[0]"]],
  [["alerts", "targets", 0, "type"], ["alerts.targets[0]"]],
  [["alerts", "targets", 0, "url_secret"], ["alerts.targets[0]"]],
  [["alerts", "targets", 1, "url"], ["alerts.targets[1]"]],
  [["alerts", "targets", 1, "secret_name"], ["alerts.targets[1]"]],
  [["alerts", "targets", 2, "chat_id"], ["alerts.targets[2]"]],
];

const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    "API_TOKEN",
    "LIGHTER_PRIVATE_KEY__TESTNET_5_4",
    "WATCH_INGEST_TOKEN__A",
    "SLACK_WEBHOOK_URL",
    "ALERT_X",
    "http://hooks.example/x",
    "http://127.0.0.1:1/x",
    "17 3 * * *",
    "custom",
    "mainnet",
    -1,
    1e23,
    0,
    true,
    null,
  ),
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
);

function checkProblems(problems: ConfigProblem[]): void {
  for (const p of problems) {
    expect(p.severity === "error" || p.severity === "warning").toBe(true);
    expect(p.setting.length).toBeGreaterThan(0);
    expect(p.message.length).toBeGreaterThan(0);
    expect(p.fix.length).toBeGreaterThan(0);
  }
}

describe("MONITORS parsing (fuzz)", () => {
  it("the template is valid (the fuzz starts from a valid config)", () => {
    const r = loadConfig({ ...env, MONITORS: stringifyBig([good]) }, { crons: ["*/5 * * * *", "17 3 * * *"] });
    expect(r.problems).toEqual([]);
  });

  it("one field replaced: never a throw, and a rejected entry's errors name that field", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), oddValue, fc.nat(3), ([path, names], value, at) => {
        const list: unknown[] = [{ ...good, account_index: 99n }, { ...good, account_index: 98n }, good].slice(
          0,
          at % 3,
        );
        list.push(setPath(good, path, value));
        const raw = stringifyBig(list);
        const r = loadConfig({ ...env, MONITORS: raw }, { crons: ["*/5 * * * *"] });
        checkProblems(r.problems);
        const i = list.length - 1;
        const errors = r.problems.filter((p) => p.severity === "error" && p.setting.startsWith(`MONITORS[${i}]`));
        if (r.monitors.length < list.length && errors.length > 0) {
          const ok = errors.some(
            (e) =>
              names.some((n) => e.setting.startsWith(`MONITORS[${i}].${n}`)) ||
              // The mutated key may now equal an earlier entry's: the whole entry is named.
              (e.setting === `MONITORS[${i}]` && /same key|same id/.test(e.message)),
          );
          expect(ok, `${path.join(".")} = ${stringifyBig(value)}: ${errors.map((e) => e.setting).join(", ")}`).toBe(
            true,
          );
        }
        // A monitor that is accepted never reads a forbidden secret.
        for (const m of r.monitors) {
          expect(m.privateKeySecretName.startsWith("LIGHTER_PRIVATE_KEY__")).toBe(true);
          for (const t of m.alerts.targets)
            for (const s of [t.urlSecret, t.secretName]) if (s !== null) expect(s.startsWith("ALERT_")).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("arbitrary JSON, mutated configs and arbitrary strings: never a throw", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json({ maxDepth: 4 }),
          mutationsArb.map((ms) => mutate(stringifyBig([good]), ms)),
          fc.string({ unit: "binary", maxLength: 40 }),
          fc.jsonValue({ maxDepth: 3 }),
        ),
        (monitors) => {
          const r = loadConfig({ ...env, MONITORS: monitors });
          checkProblems(r.problems);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("config check (fuzz)", () => {
  const toml = (monitors: string) => `name = "x"\n${CRONS}[vars]\nMONITORS = '${monitors}'\n`;

  it("arbitrary bytes, strings and mutated files: never a throw; ok means no error", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.string({ unit: "binary", maxLength: 200 }),
          mutationsArb.map((ms) => mutate(toml(stringifyBig([good])), ms)),
          fc
            .tuple(fc.constantFrom(...FIELDS), oddValue)
            .map(([[path], value]) => toml(stringifyBig([setPath(good, path, value)]).replace(/'/g, "\\u0027"))),
        ),
        fc.option(fc.oneof(fc.uint8Array({ maxLength: 60 }), fc.string({ unit: "binary", maxLength: 60 }))),
        (wrangler, devVars) => {
          const r = checkConfigFiles(wrangler, devVars);
          checkProblems(r.problems);
          expect(r.ok).toBe(!r.problems.some((p) => p.severity === "error"));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
