/**
 * The built CLI (bin/fillwatch.mjs) on the machine's plain Node (>= 20): stdout-only results, exit
 * codes 0/1/2, exact integers above 2^53, and a private key that never appears in any output.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadVectors, repoRoot, type Json } from "../../support/vectors.ts";
import { bin, buildCli, run, systemNode } from "./run.ts";

const det = loadVectors("deterministic.json");
const v = loadVectors("signer-vectors.json");

beforeAll(buildCli);

describe("fillwatch CLI", () => {
  it("keys pubkey", () => {
    const r = run(["keys", "pubkey", "--private-key", det.private_key_hex]);
    expect(r).toMatchObject({ code: 0, stdout: `${det.public_key_hex}\n` });
  });

  it("a bad key is a usage error that does not echo the key", () => {
    const secret = `0x${"ab".repeat(39)}zz`;
    const r = run(["keys", "pubkey", "--private-key", secret]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toContain("abababab");
  });

  it("tx sign reproduces the reference tx_info and hash; tx verify accepts it", () => {
    const c = (v.create_order as Json[])[0];
    const key = (v.keys as Json[]).find((k) => k.id === c.key_id).private_key_hex;
    const info = JSON.parse(c.outputs.tx_info.replace(/"Sig":"[^"]*",/, "")) as Record<string, unknown>;
    delete info.L2TxAttributes;
    const json = c.outputs.tx_info
      .replace(/^\{/, `{"ChainId":${c.inputs.chain_id},"TxType":14,`)
      .replace(/,"Sig":"[^"]*"/, "");
    const r = run(["tx", "sign", "--json", json, "--private-key", key]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { tx_type: number; tx_info: string; tx_hash: string };
    expect(out.tx_hash).toBe(c.outputs.tx_hash);
    expect(out.tx_info.replace(/"Sig":"[^"]*"/, "")).toBe(c.outputs.tx_info.replace(/"Sig":"[^"]*"/, ""));
    expect(r.stdout).not.toContain(key.slice(0, 20));
    const ok = run([
      "tx",
      "verify",
      "--tx-type",
      "14",
      "--tx-info",
      out.tx_info,
      "--public-key",
      c.public_key_hex,
      "--chain-id",
      String(c.inputs.chain_id),
    ]);
    expect(ok).toMatchObject({ code: 0, stdout: `${c.outputs.tx_hash}\n` });
    const bad = run([
      "tx",
      "verify",
      "--tx-type",
      "14",
      "--tx-info",
      out.tx_info,
      "--public-key",
      c.public_key_hex,
      "--chain-id",
      "1",
    ]);
    expect(bad.code).toBe(1);
  });

  it("accepts a pasted tx_info with its Sig (ignored: it signs anew)", () => {
    const r = run([
      "tx",
      "sign",
      "--private-key",
      det.private_key_hex,
      "--json",
      det.create_order.tx_info.replace(/^\{/, '{"ChainId":304,"TxType":14,'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { tx_hash: string }).tx_hash).toBe(det.create_order.hash_hex);
  });

  it("reads integers above 2^53 exactly", () => {
    const r = run([
      "tx",
      "sign",
      "--private-key",
      det.private_key_hex,
      "--json",
      '{"ChainId":304,"TxType":15,"AccountIndex":12345,"ApiKeyIndex":3,"MarketIndex":0,"Index":1152921504606846975,"ExpiredAt":1767220000000,"Nonce":9}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { tx_info: string }).tx_info).toContain('"Index":1152921504606846975');
  });

  it("static validation only: a rejected input is exit 2 with the reason", () => {
    const r = run([
      "tx",
      "sign",
      "--private-key",
      det.private_key_hex,
      "--json",
      '{"ChainId":304,"TxType":14,"AccountIndex":1,"ApiKeyIndex":3,"MarketIndex":0,"ClientOrderIndex":1,"BaseAmount":1,"Price":0,"IsAsk":0,"Type":0,"TimeInForce":0,"ReduceOnly":0,"TriggerPrice":0,"OrderExpiry":0,"ExpiredAt":1,"Nonce":0}',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/Price/);
  });

  it("auth-token create and verify", () => {
    const deadline = Math.floor(Date.now() / 1000) + 3600;
    const c = run([
      "auth-token",
      "create",
      "--private-key",
      det.private_key_hex,
      "--account",
      "281474976710000",
      "--api-key",
      "3",
      "--deadline",
      String(deadline),
    ]);
    expect(c.code, c.stderr).toBe(0);
    const token = c.stdout.trim();
    expect(token.startsWith(`${deadline}:281474976710000:3:`)).toBe(true);
    expect(run(["auth-token", "verify", "--token", token, "--public-key", det.public_key_hex]).code).toBe(0);
    expect(
      run(["auth-token", "verify", "--token", token.replace(":3:", ":4:"), "--public-key", det.public_key_hex]).code,
    ).toBe(1);
    const far = run([
      "auth-token",
      "create",
      "--private-key",
      det.private_key_hex,
      "--account",
      "1",
      "--api-key",
      "3",
      "--deadline",
      String(deadline + 9 * 3600),
    ]);
    expect(far.code).toBe(2);
    expect(far.stderr).toMatch(/8 hours/);
    const past = run([
      "auth-token",
      "create",
      "--private-key",
      det.private_key_hex,
      "--account",
      "12345",
      "--api-key",
      "3",
      "--deadline",
      "1767225600",
    ]);
    expect(past.code, past.stderr).toBe(0);
    expect(past.stderr).toMatch(/warning: the deadline has already passed/);
    // An expired token is a failed verification (exit 1) with the reason, even with a valid signature.
    const expired = run(["auth-token", "verify", "--token", past.stdout.trim(), "--public-key", det.public_key_hex]);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toMatch(/^expired: signature valid, but the deadline 1767225600 passed \d+ s ago\n$/);
    const old = run(["auth-token", "verify", "--token", det.auth_token.token, "--public-key", det.public_key_hex]);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/expired/);
  });

  it("a garbage public key is a usage error (exit 2) naming --public-key, not an invalid signature", () => {
    const token = `${Math.floor(Date.now() / 1000) + 3600}:1:3:${"a".repeat(160)}`;
    const c = (v.create_order as Json[])[0];
    for (const [key, why] of [
      ["zz", /public key must be 80 hex characters/],
      ["ab".repeat(39), /public key must be 80 hex characters/],
      ["ff".repeat(40), /not a valid public key \(not a curve point\)/],
    ] as const) {
      const a = run(["auth-token", "verify", "--token", token, "--public-key", key]);
      expect(a.code, key).toBe(2);
      expect(a.stdout).toBe("");
      expect(a.stderr).toMatch(/^fillwatch: --public-key: /);
      expect(a.stderr).toMatch(why);
      const t = run([
        "tx",
        "verify",
        "--tx-type",
        "14",
        "--tx-info",
        c.outputs.tx_info,
        "--public-key",
        key,
        "--chain-id",
        String(c.inputs.chain_id),
      ]);
      expect(t.code, key).toBe(2);
      expect(t.stderr).toMatch(/^fillwatch: --public-key: /);
    }
  });

  it("replay summarises recorded frames", () => {
    const frames = [
      '{"session_id":"x","type":"connected"}',
      '{"channel":"order_book:0","offset":1,"order_book":{"code":0,"asks":[{"price":"2325.00","size":"1.0000"}],"bids":[{"price":"2300.00","size":"1.0000"}],"offset":1,"nonce":10,"begin_nonce":0},"type":"subscribed/order_book"}',
      '{"channel":"order_book:0","offset":2,"order_book":{"code":0,"asks":[],"bids":[{"price":"2310.00","size":"2.0000"}],"offset":2,"nonce":12,"begin_nonce":11},"type":"update/order_book"}',
      '{"error":{"code":20013,"message":"invalid auth: invalid deadline"}}',
      '{"type":"update/account_orders","channel":"account_orders:0","account":7,"orders":{"0":[{"order_index":1152921504606846975,"order_id":"1152921504606846975","client_order_index":42,"client_order_id":"42","market_index":0,"owner_account_index":7,"filled_base_amount":"0.0050","filled_quote_amount":"11.5","status":"filled"}]}}',
      "not json",
    ].join("\n");
    const r = run(["replay", "--account", "7"], frames);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(7);
    const { summary } = JSON.parse(lines.at(-1)!) as { summary: Record<string, unknown> };
    expect(Object.keys(summary).sort()).toEqual([
      "books",
      "errors",
      "frames_by_type",
      "orders",
      "subscribed",
      "unexpected",
    ]);
    expect(summary.subscribed).toEqual(["order_book:0"]);
    expect(summary.errors).toEqual([{ code: 20013, message: "invalid auth: invalid deadline" }]);
    expect(summary.books).toEqual({ "0": { best_bid: null, best_ask: null, continuity_breaks: 1 } });
    expect(summary.orders).toEqual([
      {
        client_order_index: "42",
        order_index: "1152921504606846975",
        market: 0,
        statuses: ["filled"],
        filled_base: "0.0050",
      },
    ]);
    expect(summary.unexpected).toBe(1);
    expect((summary.frames_by_type as Record<string, number>)["update/order_book"]).toBe(1);
  });

  it("usage errors exit 2 with nothing on stdout", () => {
    for (const args of [[], ["nope"], ["tx", "verify"], ["keys", "pubkey", "--private-key"]]) {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
    }
  });

  it("config check: the shipped template asks for an account; a filled-in config passes; loopback URLs are refused", () => {
    const template = spawnSync(
      systemNode,
      [
        bin,
        "config",
        "check",
        "--wrangler",
        join(repoRoot, "wrangler.toml"),
        "--dev-vars",
        join(repoRoot, ".dev.vars.example"),
      ],
      { encoding: "utf8" },
    );
    expect(template.status).toBe(2);
    expect(template.stderr).toMatch(/account_index/);
    const dir = mkdtempSync(join(tmpdir(), "fw-"));
    const toml = readFileSync(join(repoRoot, "wrangler.toml"), "utf8").replace(
      '"account_index":0',
      '"account_index":123456',
    );
    writeFileSync(join(dir, "wrangler.toml"), toml);
    writeFileSync(join(dir, ".dev.vars"), "API_TOKEN=x\nLIGHTER_PRIVATE_KEY__TESTNET_123456_3=0x00\n");
    const ok = spawnSync(
      systemNode,
      [bin, "config", "check", "--wrangler", join(dir, "wrangler.toml"), "--dev-vars", join(dir, ".dev.vars")],
      { encoding: "utf8" },
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { ok: boolean }).ok).toBe(true);
    writeFileSync(
      join(dir, "wrangler.toml"),
      toml
        .replace(
          '"network":"testnet"',
          '"network":"custom","rest_url":"http://127.0.0.1:8790","ws_url":"ws://127.0.0.1:8790/stream","chain_id":300',
        )
        .replace("TESTNET", "CUSTOM"),
    );
    const loop = spawnSync(
      systemNode,
      [bin, "config", "check", "--wrangler", join(dir, "wrangler.toml"), "--dev-vars", join(dir, ".dev.vars")],
      { encoding: "utf8" },
    );
    expect(loop.status).toBe(2);
    expect(loop.stderr).toMatch(/loopback/);
  });
});
