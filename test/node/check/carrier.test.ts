/**
 * The one effect carrier (worker/monitor/check/carrier.ts) that the Durable Object and
 * `fillwatch check` both use, against the simulator over real HTTP: pre-flight data and its cache,
 * signing (a dry run never advances the nonce), transmitting the stored bytes, a 21104 forgetting
 * the nonce, look-ups (absent, found, an unknown tx), and the failures mapped to the machine's
 * vocabulary (outage vs. a refusal, no configuration, no key).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthToken } from "../../../worker/lighter/auth.ts";
import { PrivateKey } from "../../../worker/lighter/keys.ts";
import { LighterRestClient } from "../../../worker/lighter/rest.ts";
import { EffectCarrier, type CacheKey, type Identity } from "../../../worker/monitor/check/carrier.ts";
import type { Effect } from "../../../worker/monitor/check/effects.ts";
import type { Event } from "../../../worker/monitor/check/events.ts";
import type { SpecJson } from "../../../worker/monitor/check/state.ts";
import { startSimulator, type Simulator } from "../../sim/server.ts";

let sim: Simulator;
let id: Identity;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 11, bookIntervalMs: 1_000, executionDelayMs: 5 });
  const a = sim.createAccount();
  id = {
    account: a.account_index,
    apiKeyIndex: a.api_key_index,
    chainId: sim.chainId,
    key: PrivateKey.fromHex(a.private_key!),
    keyError: null,
  };
}, 60_000);

afterAll(async () => {
  await sim.close();
});

/** A carrier over the simulator; `calls` lists the REST paths it asked for. */
function carrier(o: { id?: Identity | null; fetch?: typeof fetch; cache?: Map<string, string> } = {}) {
  const calls: string[] = [];
  const logs: string[] = [];
  const base = o.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const rest = new LighterRestClient({
    baseUrl: sim.rest,
    timeoutMs: 2_000,
    authToken: () =>
      createAuthToken(id.key!, {
        deadline: Math.floor(Date.now() / 1000) + 600,
        accountIndex: id.account,
        apiKeyIndex: id.apiKeyIndex,
      }),
    fetch: (input, init) => {
      calls.push(new URL(String(input)).pathname);
      return base(input, init);
    },
  });
  const cache = o.cache;
  const io = new EffectCarrier({
    rest: () => rest,
    identity: () => (o.id === undefined ? id : o.id),
    now: () => Date.now(),
    cache: cache && {
      get: (k: CacheKey) => cache.get(k) ?? null,
      set: (k: CacheKey, v: string) => void cache.set(k, v),
    },
    log: (_level, event) => void logs.push(event),
  });
  return { io, calls, logs };
}

type Ev<T extends Event["type"]> = Extract<Event, { type: T }>;

async function spec(io: EffectCarrier): Promise<SpecJson> {
  const r = await io.preflight({ kind: "preflight_fetch", ref: "p", market: 0, position: false, apiKey: false });
  if (!r.spec.ok || !r.spec.value) throw new Error("no spec");
  return r.spec.value;
}

let coiSeq = 1_000n;
function signFx(s: SpecJson, over: Partial<Extract<Effect, { kind: "sign" }>> = {}): Extract<Effect, { kind: "sign" }> {
  coiSeq++;
  return {
    kind: "sign",
    ref: "s",
    coi: coiSeq.toString(),
    market: 0,
    isAsk: false,
    // A buy 2 % below the best bid: it rests (inside the exchange's price band) and never fills.
    baseAmount: (BigInt(s.minBase) * 10n).toString(),
    price: Math.round(sim.exchange.bestPrices(0).bid! * 0.98),
    reduceOnly: false,
    expiredAt: Date.now() + 10 * 60_000,
    freshNonce: false,
    dryRun: false,
    ...over,
  };
}

function signed(e: Ev<"signed"> | Ev<"sign_failed">): Ev<"signed"> {
  if (e.type !== "signed") throw new Error(`sign failed: ${e.reason} ${e.message}`);
  return e;
}

describe("the effect carrier against the simulator", () => {
  it("answers pre-flight with the spec, a flat position and a matching API key; the cache spares the second spec and key", async () => {
    const cache = new Map<string, string>();
    const { io, calls } = carrier({ cache });
    const fx = { kind: "preflight_fetch", ref: "p1", market: 0, position: true, apiKey: true } as const;
    const a = await io.preflight(fx);
    expect(a.ref).toBe("p1");
    expect(a.spec.ok && a.spec.value?.marketIndex).toBe(0);
    expect(a.position).toEqual({ ok: true, value: "0" });
    expect(a.apiKey).toEqual({ ok: true, value: { matches: true, detail: {} } });
    const before = calls.length;
    const b = await io.preflight({ ...fx, ref: "p2" });
    expect(b.spec).toEqual(a.spec);
    // Only the position is asked again.
    expect(calls.slice(before)).toEqual(["/api/v1/account"]);
  });

  it("names the registered key when it is not ours", async () => {
    const other = { ...id, key: PrivateKey.fromHex("11".repeat(40)) };
    const { io } = carrier({ id: other });
    const r = await io.preflight({ kind: "preflight_fetch", ref: "p", market: 0, position: false, apiKey: true });
    expect(r.apiKey?.ok && r.apiKey.value.matches).toBe(false);
    expect(r.apiKey?.ok && r.apiKey.value.detail.configured_public_key).toBe(other.key.publicKeyHex());
  });

  it("a dry run signs without using the nonce; a real signature advances it; the bytes go out unchanged and are found", async () => {
    const { io, logs } = carrier();
    const s = await spec(io);
    const dry1 = signed(await io.sign(signFx(s, { dryRun: true })));
    const dry2 = signed(await io.sign(signFx(s, { dryRun: true })));
    expect(dry2.nonce).toBe(dry1.nonce);
    const real = signed(await io.sign(signFx(s)));
    expect(real.nonce).toBe(dry1.nonce);
    expect(io.nonce).toBe(BigInt(real.nonce) + 1n);
    const coi = coiSeq.toString();
    const tx = {
      kind: "transmit",
      ref: "t",
      coi,
      txType: real.txType,
      txInfo: real.txInfo,
      txHash: real.txHash,
    } as const;
    const reply = await io.transmit(tx);
    expect(reply.reply).toMatchObject({ kind: "http", status: 200, code: 200 });
    expect(logs).toEqual(["order.signed", "order.signed", "order.signed", "order.send", "order.send_reply"]);

    let look: Ev<"looked_up"> | null = null;
    for (let i = 0; i < 40; i++) {
      look = await io.lookup({ kind: "lookup", ref: "l", coi, txHash: real.txHash, sizeDecimals: s.sizeDecimals });
      if (look.order.kind === "found") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(look?.order.kind).toBe("found");
    expect(look?.order.kind === "found" && look.order.order.clientOrderIndex).toBe(coi);
    expect(look?.tx.kind).toBe("record");

    // The same bytes again: the exchange refuses the used nonce (21104), and the carrier forgets its nonce.
    const again = await io.transmit({ ...tx, ref: "t2" });
    expect(again.reply).toMatchObject({ kind: "http", code: 21104 });
    expect(io.nonce).toBeNull();
  });

  it("an order never placed is absent, and a look-up without a hash leaves the tx unknown", async () => {
    const { io } = carrier();
    const r = await io.lookup({ kind: "lookup", ref: "l", coi: "987654321", txHash: "", sizeDecimals: 4 });
    expect(r.order).toEqual({ kind: "absent" });
    expect(r.tx).toEqual({ kind: "unknown", reason: "tx not known (yet)" });
  });

  it("a network failure is an outage and an unknown look-up, never absent; a 4xx is not an outage", async () => {
    const down = carrier({ fetch: () => Promise.reject(new TypeError("connect ECONNREFUSED")) });
    const p = await down.io.preflight({ kind: "preflight_fetch", ref: "p", market: 0, position: true, apiKey: true });
    expect(p.spec).toMatchObject({ ok: false, outage: true });
    expect(p.position).toBeNull();
    const l = await down.io.lookup({ kind: "lookup", ref: "l", coi: "5", txHash: "ab", sizeDecimals: 4 });
    expect(l.order.kind).toBe("unknown");
    expect(l.tx.kind).toBe("unknown");
    const t = await down.io.transmit({ kind: "transmit", ref: "t", coi: "5", txType: 14, txInfo: "{}", txHash: "ab" });
    expect(t.reply.kind).toBe("no_reply");

    const refused = carrier({
      fetch: () =>
        Promise.resolve(new Response(JSON.stringify({ code: 20001, message: "invalid param" }), { status: 400 })),
    });
    const q = await refused.io.preflight({
      kind: "preflight_fetch",
      ref: "p",
      market: 0,
      position: false,
      apiKey: false,
    });
    expect(q.spec).toMatchObject({ ok: false, outage: false, evidence: { exchange_code: 20001, http_status: 400 } });
  });

  it("refuses to sign without a configuration or a key, and asks nothing", async () => {
    const gone = carrier({ id: null });
    const s = { minBase: "50", priceDecimals: 2 } as SpecJson;
    expect(await gone.io.sign(signFx(s))).toMatchObject({ type: "sign_failed", reason: "no_config" });
    const keyless = carrier({ id: { ...id, key: null, keyError: "KEY is the zero key" } });
    expect(await keyless.io.sign(signFx(s))).toMatchObject({
      type: "sign_failed",
      reason: "no_key",
      message: "KEY is the zero key",
    });
    expect([...gone.calls, ...keyless.calls]).toEqual([]);
    // Effects that are not the carrier's get no answer.
    expect(gone.io.perform({ kind: "save" })).toBeNull();
  });
});
