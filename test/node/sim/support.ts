/**
 * Raw clients for the simulator conformance tests: a bare `ws` socket that records every frame
 * as text and raw HTTP via fetch. Nothing here uses fillwatch's own client code (messages.ts,
 * rest.ts); the library is used only to sign test transactions and auth tokens.
 */
import { createRequire } from "node:module";
import type { WebSocket as WsSocket } from "ws";
import { createAuthToken } from "../../../worker/lighter/auth.ts";
import { PrivateKey } from "../../../worker/lighter/keys.ts";
import { signTx, type CreateOrderTx } from "../../../worker/lighter/tx.ts";
import type { Simulator } from "../../sim/server.ts";

const require = createRequire(import.meta.url);
const WebSocket = require("ws") as typeof import("ws").WebSocket;

export interface Frame {
  at: number;
  text: string;
  json: Record<string, unknown> | null;
}

export class RawClient {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | null = null;
  private ws: WsSocket;
  private waiters: (() => void)[] = [];

  private constructor(ws: WsSocket) {
    this.ws = ws;
    ws.on("message", (data) => {
      const text = data.toString();
      let json: Record<string, unknown> | null;
      try {
        const v = JSON.parse(text) as unknown;
        json = v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
      } catch {
        json = null;
      }
      this.frames.push({ at: Date.now(), text, json });
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(url: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new RawClient(ws);
      ws.once("open", () => resolve(c));
      ws.once("unexpected-response", (_req: unknown, res: { statusCode?: number }) =>
        reject(new Error(`HTTP ${res.statusCode}`)),
      );
      ws.once("error", reject);
    });
  }

  send(v: unknown): void {
    this.ws.send(typeof v === "string" ? v : JSON.stringify(v));
  }

  /** Waits for the first frame (from index `from`) matching `pred`. */
  async next(pred: (f: Frame) => boolean, timeoutMs = 2_000, from = 0): Promise<Frame> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.slice(from).find(pred);
      if (f) return f;
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) before a matching frame`);
      const left = until - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching frame within ${timeoutMs} ms; got ${this.frames
            .slice(-5)
            .map((x) => x.text.slice(0, 120))
            .join(" | ")}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves true if no frame matching `pred` arrives within `ms`. */
  async none(pred: (f: Frame) => boolean, ms: number, from = this.frames.length): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return !this.frames.slice(from).some(pred);
  }

  async waitClosed(timeoutMs = 2_000): Promise<{ code: number; reason: string }> {
    const until = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    if (!this.closed) throw new Error("socket still open");
    return this.closed;
  }

  close(): void {
    this.ws.terminate();
  }
}

export const isType = (t: string) => (f: Frame) => f.json?.type === t;
export const isError = (code: number) => (f: Frame) => {
  const j = f.json;
  if (!j) return false;
  const e = j.error as Record<string, unknown> | undefined;
  return (e && e.code === code) || (j.type === "error" && j.code === code);
};

export interface TestAccount {
  index: bigint;
  apiKey: number;
  key: PrivateKey;
  nonce: bigint;
  coi: bigint;
}

export function account(sim: Simulator): TestAccount {
  const a = sim.createAccount({ collateral: 1_000_000_000n });
  return {
    index: a.account_index,
    apiKey: a.api_key_index,
    key: PrivateKey.fromHex(a.private_key!),
    nonce: 1n,
    coi: 1000n,
  };
}

/** A fresh funded account with simulator variants `v` set for it alone. */
export async function accountWithVariant(sim: Simulator, v: Record<string, unknown>): Promise<TestAccount> {
  const a = account(sim);
  const r = await http(sim, "/_sim/variants", {
    method: "POST",
    body: JSON.stringify({ ...v, account_index: a.index.toString() }),
  });
  if (r.status !== 200) throw new Error(`variants ${JSON.stringify(v)} refused: ${r.status} ${r.text}`);
  return a;
}

export function token(a: TestAccount, deadline = Math.floor(Date.now() / 1000) + 3600): string {
  return createAuthToken(a.key, { deadline, accountIndex: a.index, apiKeyIndex: a.apiKey });
}

export async function http(
  sim: Simulator,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const res = await fetch(`${sim.rest}${path}`, init);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, text, json };
}

export interface OrderSpec {
  market?: number;
  base: bigint;
  price: number;
  isAsk: boolean;
  type?: number;
  tif?: number;
  reduceOnly?: boolean;
  orderExpiry?: bigint;
  coi?: bigint;
  nonce?: bigint;
  selfTrade?: number;
}

export function orderTx(
  sim: Simulator,
  a: TestAccount,
  o: OrderSpec,
): { tx_type: number; tx_info: string; tx_hash: string; coi: bigint } {
  const coi = o.coi ?? ++a.coi;
  const tx: CreateOrderTx = {
    txType: 14,
    AccountIndex: a.index,
    ApiKeyIndex: a.apiKey,
    MarketIndex: o.market ?? 0,
    ClientOrderIndex: coi,
    BaseAmount: o.base,
    Price: o.price,
    IsAsk: o.isAsk ? 1 : 0,
    Type: o.type ?? 0,
    TimeInForce: o.tif ?? 0,
    ReduceOnly: o.reduceOnly ? 1 : 0,
    TriggerPrice: 0,
    OrderExpiry: o.orderExpiry ?? ((o.tif ?? 0) === 0 ? 0n : BigInt(Date.now() + 86_400_000)),
    ExpiredAt: BigInt(Date.now() + 590_000),
    Nonce: o.nonce ?? a.nonce,
    L2TxAttributes: o.selfTrade ? { 6: o.selfTrade } : null,
  };
  return { ...signTx(tx, a.key, sim.chainId), coi };
}

/** POST /api/v1/sendTx (form-encoded, as the official TS SDK sends it). Advances the nonce on 200. */
export async function sendOrder(sim: Simulator, a: TestAccount, o: OrderSpec) {
  const t = orderTx(sim, a, o);
  const r = await http(sim, "/api/v1/sendTx", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ tx_type: String(t.tx_type), tx_info: t.tx_info }).toString(),
  });
  if (r.json.code === 200 && o.nonce === undefined) a.nonce++;
  return { ...r, tx: t };
}

/** Best prices from a fresh snapshot, in ticks. */
export async function bestPrices(sim: Simulator, market = 0): Promise<{ bid: number; ask: number }> {
  const c = await RawClient.open(sim.ws);
  c.send({ type: "subscribe", channel: `order_book/${market}` });
  const snap = await c.next(isType("subscribed/order_book"));
  c.close();
  const ob = snap.json!.order_book as { asks: { price: string }[]; bids: { price: string }[] };
  const ticks = (p: string) => Math.round(Number(p) * 100);
  return { ask: Math.min(...ob.asks.map((l) => ticks(l.price))), bid: Math.max(...ob.bids.map((l) => ticks(l.price))) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
