/**
 * Issue 10 safety limits in MONITORS: no setting behind __proto__, secret references checked by
 * field, one owner per (chain id, account, API key), outbound URLs, the reserved housekeeping cron,
 * and every problem reported (not just the first).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, parseMonitors, RESERVED_HOUSEKEEPING_CRON, type ConfigProblem } from "../../../worker/config.ts";
import { JsonSyntaxError, parseExactJson } from "../../../worker/lighter/json.ts";
import { PrivateKey } from "../../../worker/lighter/keys.ts";
import { signTx, verifyTx } from "../../../worker/lighter/tx.ts";
import { loadVectors, repoRoot } from "../../support/vectors.ts";

const det = loadVectors("deterministic.json");
const errors = (ps: ConfigProblem[]) => ps.filter((p) => p.severity === "error");
const monitor = (extra: string) => `[{"network":"testnet","account_index":5,"api_key_index":4${extra}}]`;
const target = (t: string) => monitor(`,"alerts":{"targets":[${t}]}`);

describe("the exact JSON reader refuses prototype keys", () => {
  it("__proto__, constructor and prototype are errors naming their path", () => {
    for (const key of ["__proto__", "constructor", "prototype"]) {
      for (const [text, path] of [
        [`{"${key}":1}`, `.${key}`],
        [`[0,{"a":{"${key}":{}}}]`, `[1].a.${key}`],
        [`{"x y":[{"${key}":null}]}`, `["x y"][0].${key}`],
      ] as const) {
        let caught: unknown;
        try {
          parseExactJson(text);
        } catch (err) {
          caught = err;
        }
        expect(caught, text).toBeInstanceOf(JsonSyntaxError);
        expect((caught as JsonSyntaxError).path, text).toBe(path);
        expect((caught as Error).message, text).toContain(path);
      }
    }
  });

  it("objects it builds have no prototype, so nothing can be inherited", () => {
    const v = parseExactJson('{"a":{"b":[{}]}}') as Record<string, Record<string, Record<string, unknown>[]>>;
    expect(Object.getPrototypeOf(v)).toBe(null);
    expect(Object.getPrototypeOf(v.a)).toBe(null);
    expect(Object.getPrototypeOf(v.a!.b![0])).toBe(null);
    expect("toString" in v).toBe(false);
  });

  it("a setting hidden behind __proto__ is a config error, not an allowMainnet", () => {
    const r = parseMonitors(monitor(',"__proto__":{"allow_mainnet":true,"max_orders_per_day":100000}'));
    expect(r.monitors).toEqual([]);
    expect(errors(r.problems)).toHaveLength(1);
    expect(r.problems[0]!.setting).toBe("MONITORS[0].__proto__");
    expect(r.problems[0]!.fix).toMatch(/remove MONITORS\[0\]\.__proto__/);
  });

  it("tx verify refuses a tx_info whose Nonce sits under __proto__", () => {
    const key = PrivateKey.fromHex(det.private_key_hex as string);
    const signed = signTx(
      {
        txType: 15,
        AccountIndex: 12345n,
        ApiKeyIndex: 3,
        MarketIndex: 0,
        Index: 7n,
        ExpiredAt: 1767220000000n,
        Nonce: 9n,
        L2TxAttributes: null,
      },
      key,
      300,
    );
    expect(verifyTx(15, signed.tx_info, key.publicKeyHex(), 300).ok).toBe(true);
    const hidden = signed.tx_info.replace('"Nonce":9,', "").replace(/^\{/, '{"__proto__":{"Nonce":9},');
    expect(hidden).not.toContain('"Nonce":9,');
    expect(() => JSON.parse(hidden) as unknown).not.toThrow();
    const r = verifyTx(15, hidden, key.publicKeyHex(), 300);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.message).toContain("__proto__");
  });
});

describe("secret references are checked by field", () => {
  const problemFor = (raw: string, setting: string) => {
    const p = errors(parseMonitors(raw).problems).find((x) => x.setting === setting);
    expect(p, `${raw} → ${setting}`).toBeDefined();
    return p!;
  };

  it("an alert target cannot read the private key, API_TOKEN or a watch ingest token", () => {
    for (const name of ["LIGHTER_PRIVATE_KEY__TESTNET_5_4", "API_TOKEN", "WATCH_INGEST_TOKEN__A"]) {
      for (const [t, field] of [
        [`{"type":"webhook","url":"https://hooks.example/x","secret_name":"${name}"}`, "secret_name"],
        [`{"type":"slack","url_secret":"${name}"}`, "url_secret"],
        [`{"type":"pagerduty","secret_name":"${name}"}`, "secret_name"],
      ] as const) {
        const r = parseMonitors(target(t));
        expect(r.monitors, t).toEqual([]);
        const p = problemFor(target(t), `MONITORS[0].alerts.targets[0].${field}`);
        expect(p.fix).not.toMatch(/ALERT_LIGHTER|ALERT_API_TOKEN|ALERT_WATCH/);
      }
    }
  });

  it("an old alert secret name fails with a fix naming the ALERT_ secret", () => {
    const p = problemFor(
      target('{"type":"slack","url_secret":"SLACK_WEBHOOK_URL"}'),
      "MONITORS[0].alerts.targets[0].url_secret",
    );
    expect(p.fix).toContain('"ALERT_SLACK_WEBHOOK_URL"');
    const q = problemFor(
      target('{"type":"telegram","secret_name":"TELEGRAM_BOT_TOKEN","chat_id":"-1"}'),
      "MONITORS[0].alerts.targets[0].secret_name",
    );
    expect(q.fix).toContain('"ALERT_TELEGRAM_BOT_TOKEN"');
  });

  it("ALERT_* names are accepted for alert fields", () => {
    const r = parseMonitors(
      target(
        '{"type":"webhook","url_secret":"ALERT_HOOK_URL","secret_name":"ALERT_HOOK_HMAC"},{"type":"pagerduty","secret_name":"ALERT_PAGERDUTY_ROUTING_KEY"}',
      ),
    );
    expect(errors(r.problems)).toEqual([]);
    expect(r.monitors[0]!.alerts.targets.map((t) => t.secretName)).toEqual([
      "ALERT_HOOK_HMAC",
      "ALERT_PAGERDUTY_ROUTING_KEY",
    ]);
  });

  it("private_key_secret may only name a LIGHTER_PRIVATE_KEY__ secret", () => {
    for (const name of ["API_TOKEN", "ALERT_SLACK_WEBHOOK_URL", "WATCH_INGEST_TOKEN__X", "MY_KEY", "lighter"]) {
      const raw = monitor(`,"private_key_secret":"${name}"`);
      expect(parseMonitors(raw).monitors, name).toEqual([]);
      problemFor(raw, "MONITORS[0].private_key_secret");
    }
    expect(problemFor(monitor(',"private_key_secret":"MY_KEY"'), "MONITORS[0].private_key_secret").fix).toContain(
      "LIGHTER_PRIVATE_KEY__MY_KEY",
    );
    const ok = parseMonitors(monitor(',"private_key_secret":"LIGHTER_PRIVATE_KEY__BOT_A"'));
    expect(errors(ok.problems)).toEqual([]);
    expect(ok.monitors[0]!.privateKeySecretName).toBe("LIGHTER_PRIVATE_KEY__BOT_A");
  });
});

describe("a key has one owner", () => {
  it("the same account and API key as testnet and as custom on chain 300 is an error naming both entries", () => {
    const raw = `[{"network":"testnet","account_index":5,"api_key_index":4},{"network":"custom","rest_url":"https://lighter.example","ws_url":"wss://lighter.example/stream","chain_id":300,"account_index":5,"api_key_index":4}]`;
    const r = parseMonitors(raw);
    expect(r.monitors.map((m) => m.id)).toEqual(["testnet:5:4"]);
    const p = errors(r.problems);
    expect(p).toHaveLength(1);
    expect(p[0]!.setting).toBe("MONITORS[1]");
    expect(p[0]!.message).toContain("MONITORS[0] (testnet:5:4)");
    expect(p[0]!.message).toContain("MONITORS[1] (custom:5:4)");
  });

  it("the same account and key on different chains are two identities", () => {
    const raw = `[{"network":"testnet","account_index":5,"api_key_index":4},{"network":"mainnet","account_index":5,"api_key_index":4,"allow_mainnet":true}]`;
    const r = parseMonitors(raw);
    expect(errors(r.problems)).toEqual([]);
    expect(r.monitors).toHaveLength(2);
  });
});

describe("URLs, schedules and complete reports", () => {
  it("heartbeat and target URLs must be https, or http only to loopback", () => {
    for (const [alerts, setting] of [
      ['{"heartbeat_url":"http://hc.example/uuid"}', "MONITORS[0].alerts.heartbeat_url"],
      ['{"heartbeat_url":"not a url"}', "MONITORS[0].alerts.heartbeat_url"],
      ['{"heartbeat_url":"ftp://hc.example/uuid"}', "MONITORS[0].alerts.heartbeat_url"],
      ['{"heartbeat_url":42}', "MONITORS[0].alerts.heartbeat_url"],
      ['{"targets":[{"type":"webhook","url":"http://hooks.example/x"}]}', "MONITORS[0].alerts.targets[0].url"],
      ['{"targets":[{"type":"webhook","url":"javascript:alert(1)"}]}', "MONITORS[0].alerts.targets[0].url"],
    ] as const) {
      const r = parseMonitors(monitor(`,"alerts":${alerts}`));
      expect(
        errors(r.problems).map((p) => p.setting),
        alerts,
      ).toEqual([setting]);
    }
    const ok = parseMonitors(
      monitor(
        ',"alerts":{"heartbeat_url":"http://127.0.0.1:9/beat","targets":[{"type":"webhook","url":"https://hooks.example/x"}]}',
      ),
    );
    expect(errors(ok.problems)).toEqual([]);
    expect(ok.monitors[0]!.alerts.heartbeatUrl).toBe("http://127.0.0.1:9/beat");
  });

  it("a schedule on the reserved housekeeping cron is an error", () => {
    // scheduled.ts (Workers types, not importable here) must reserve the same cron.
    const scheduled = readFileSync(join(repoRoot, "worker", "scheduled.ts"), "utf8");
    expect(/HOUSEKEEPING_CRON = "([^"]*)"/.exec(scheduled)?.[1]).toBe(RESERVED_HOUSEKEEPING_CRON);
    for (const s of ["17 3 * * *", " 17  3 * * * "]) {
      const r = parseMonitors(monitor(`,"schedule":"${s}"`), { crons: ["*/5 * * * *", "17 3 * * *"] });
      expect(r.monitors).toEqual([]);
      expect(errors(r.problems).map((p) => p.setting)).toEqual(["MONITORS[0].schedule"]);
      expect(r.problems[0]!.message).toMatch(/housekeeping/);
    }
  });

  it("every problem of an entry is reported, caps and schedules included, and a bad type never throws", () => {
    const r = parseMonitors(
      '[{"account_index":0,"api_key_index":4,"max_orders_per_day":0,"schedule":"*/7 * * * *","alerts":{"targets":[{"type":5}]}}]',
      { crons: ["*/5 * * * *"] },
    );
    expect(
      errors(r.problems)
        .map((p) => p.setting)
        .sort(),
    ).toEqual([
      "MONITORS[0].account_index",
      "MONITORS[0].alerts.targets[0].type",
      "MONITORS[0].max_orders_per_day",
      "MONITORS[0].schedule",
    ]);
  });

  it("loadConfig never reads an inherited property as a secret", () => {
    const r = loadConfig({
      MONITORS: target('{"type":"slack","url_secret":"ALERT_SLACK_URL"}'),
      API_TOKEN: "t",
      LIGHTER_PRIVATE_KEY__TESTNET_5_4: "0x1",
    });
    expect(r.problems.map((p) => p.setting)).toEqual(["ALERT_SLACK_URL"]);
  });
});
