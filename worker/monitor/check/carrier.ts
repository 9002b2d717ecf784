/**
 * The one carrier of the check machine's REST and signing effects, for the Durable Object and for
 * `fillwatch check` alike: each effect is carried out with the Lighter REST client (over the
 * caller's `fetch`) and the signer, and answered with the event the machine expects. Pre-flight
 * data (market spec and a matching API key, cached an hour where the caller keeps a cache; the
 * position), signing a CreateOrder (nonce kept here, asked from the exchange when unknown, when the
 * machine wants a fresh one, or after a 21104; a dry run never advances it), putting the stored
 * bytes on the wire unchanged, and the order/tx and position look-ups. Failures are mapped to the
 * machine's vocabulary: a 5xx, timeout or network error is an outage; any answer that is not a
 * parsed record is "unknown", never "absent".
 */
import { parseDecimal, rescale } from "../../lighter/decimal.ts";
import { errorMessage } from "../../lighter/errors.ts";
import type { PrivateKey } from "../../lighter/keys.ts";
import { LighterApiError, type LighterRestClient } from "../../lighter/rest.ts";
import { describeCode } from "../diagnosis.ts";
import type { Effect } from "./effects.ts";
import type { Event } from "./events.ts";
import { restObserved, type OrderLookup } from "./order.ts";
import type { Fetched } from "./preflight.ts";
import { parseAppError, type SendReply, type TxLookup } from "./send.ts";
import { signOrder } from "./sign-order.ts";
import type { SpecJson } from "./state.ts";

type Fx<K extends Effect["kind"]> = Extract<Effect, { kind: K }>;
type Ev<T extends Event["type"]> = Extract<Event, { type: T }>;

/** How long a cached market spec or API key match is trusted. */
const CACHE_MS = 3_600_000;

/** The account and key the effects act for (null: the monitor's configuration is gone). */
export interface Identity {
  account: bigint;
  apiKeyIndex: number;
  chainId: number;
  key: PrivateKey | null;
  /** Why there is no key, when one is configured but unusable. */
  keyError: string | null;
}

/** Keys of the carrier's cache: the market spec, and the API key check. */
export type CacheKey = `market_${number}` | "apikey_check";

export interface CarrierOptions {
  /** The REST client for the configured network (may throw when the configuration is gone). */
  rest(): LighterRestClient;
  identity(): Identity | null;
  now(): number;
  /** Where the spec and a matching API key are kept an hour (the object: meta; the CLI: none). */
  cache?: { get(key: CacheKey): string | null; set(key: CacheKey, value: string): void };
  /** The order's log lines: order.signed, order.send, order.send_reply, order.lookup. */
  log?(level: "info" | "warn", event: string, data: Record<string, unknown>): void;
}

export class EffectCarrier {
  /** The next nonce of the API key, as far as we know (null: ask the exchange). */
  nonce: bigint | null = null;
  private readonly o: CarrierOptions;
  /** Transmissions per client order index (for the order log only). */
  private readonly sends = new Map<string, number>();

  constructor(o: CarrierOptions) {
    this.o = o;
  }

  private log(level: "info" | "warn", event: string, data: Record<string, unknown>): void {
    this.o.log?.(level, event, data);
  }

  /** Carries out one REST or signing effect; null for effects that are not this carrier's. */
  perform(fx: Effect): Promise<Event> | null {
    switch (fx.kind) {
      case "preflight_fetch":
        return this.preflight(fx);
      case "sign":
        return this.sign(fx);
      case "transmit":
        return this.transmit(fx);
      case "lookup":
        return this.lookup(fx);
      case "fetch_position":
        return this.fetchPosition(fx);
      default:
        return null;
    }
  }

  async preflight(fx: Fx<"preflight_fetch">): Promise<Ev<"preflight_data">> {
    const spec = await fetched(() => this.marketSpec(fx.market));
    const decimals = spec.ok && spec.value ? spec.value.sizeDecimals : null;
    const position = fx.position && decimals !== null ? await fetched(() => this.position(fx.market, decimals)) : null;
    const key = this.o.identity()?.key ?? null;
    const apiKey = fx.apiKey && key ? await fetched(() => this.checkApiKey(key)) : null;
    return { type: "preflight_data", ref: fx.ref, spec, position, apiKey };
  }

  async fetchPosition(fx: Fx<"fetch_position">): Promise<Ev<"position">> {
    return { type: "position", ref: fx.ref, position: await fetched(() => this.position(fx.market, fx.sizeDecimals)) };
  }

  /** Signs; the machine stores the answer (write-ahead) before it asks for a transmission. */
  async sign(fx: Fx<"sign">): Promise<Ev<"signed"> | Ev<"sign_failed">> {
    const failed = (reason: Ev<"sign_failed">["reason"], message: string) =>
      ({ type: "sign_failed", ref: fx.ref, reason, message }) as const;
    const id = this.o.identity();
    if (!id) return failed("no_config", "the monitor's configuration is gone");
    if (!id.key) return failed("no_key", id.keyError ?? "no private key configured");
    let n: bigint;
    try {
      if (fx.freshNonce || this.nonce === null) this.nonce = await this.o.rest().nextNonce(id.account, id.apiKeyIndex);
      n = this.nonce;
    } catch (err) {
      return failed("nonce", errorMessage(err));
    }
    try {
      const signed = signOrder(
        fx,
        { account: id.account, apiKeyIndex: id.apiKeyIndex, chainId: id.chainId, key: id.key },
        n,
      );
      if (!signed.ok) return failed("signer", signed.message);
      // A dry run keeps the nonce unused.
      if (!fx.dryRun) this.nonce = n + 1n;
      const at = { client_order_index: fx.coi, tx_hash: signed.txHash, nonce: n.toString(), dry_run: fx.dryRun };
      this.log("info", "order.signed", { ...at, expired_at: fx.expiredAt });
      return {
        type: "signed",
        ref: fx.ref,
        txType: signed.txType,
        txInfo: signed.txInfo,
        txHash: signed.txHash,
        nonce: n.toString(),
        expiredAt: fx.expiredAt,
      };
    } catch (err) {
      return failed("signer", errorMessage(err));
    }
  }

  /** Puts the stored signed bytes on the wire, unchanged, and reports what came back. */
  async transmit(fx: Fx<"transmit">): Promise<Ev<"send_reply">> {
    const attempt = (this.sends.get(fx.coi) ?? 0) + 1;
    this.sends.set(fx.coi, attempt);
    this.log("info", "order.send", { client_order_index: fx.coi, tx_hash: fx.txHash, attempt });
    let reply: SendReply;
    try {
      const res = await this.o.rest().sendTx(fx.txType, fx.txInfo);
      reply = { kind: "http", status: 200, code: res.code, message: res.message ?? "" };
      if (res.txHash && res.txHash !== fx.txHash)
        this.log("warn", "order.tx_hash_mismatch", { ours: fx.txHash, theirs: res.txHash });
    } catch (err) {
      reply =
        err instanceof LighterApiError && err.httpStatus > 0
          ? { kind: "http", status: err.httpStatus, code: err.code, message: err.message }
          : { kind: "no_reply", reason: errorMessage(err) };
    }
    // A 21104 to any transmission means our nonce is not the exchange's: the next signature asks.
    if (reply.kind === "http" && reply.code === 21104) this.nonce = null;
    const code = reply.kind === "http" ? reply.code : null;
    this.log("info", "order.send_reply", { client_order_index: fx.coi, ...reply, code_meaning: describeCode(code) });
    return { type: "send_reply", ref: fx.ref, reply };
  }

  /** REST: the order by client order index, and the tx by hash. */
  async lookup(fx: Fx<"lookup">): Promise<Ev<"looked_up">> {
    let order: OrderLookup;
    try {
      const id = this.o.identity();
      if (!id) throw new Error("the monitor's configuration is gone");
      const list = await this.o.rest().accountOrders(id.account, [BigInt(fx.coi)]);
      const found = list.find((x) => x.clientOrderIndex.toString() === fx.coi);
      order = found ? { kind: "found", order: restObserved(found, fx.sizeDecimals) } : { kind: "absent" };
    } catch (err) {
      order = { kind: "unknown", reason: errorMessage(err) };
    }
    let tx: TxLookup;
    try {
      const t = fx.txHash ? await this.o.rest().tx(fx.txHash) : null;
      tx =
        t && (t.status !== null || t.eventInfo !== null)
          ? { kind: "record", status: t.status, ae: parseAppError(t.eventInfo) }
          : { kind: "unknown", reason: t ? "empty tx record" : "tx not known (yet)" };
    } catch (err) {
      tx = { kind: "unknown", reason: errorMessage(err) };
    }
    const shown = order.kind === "found" ? order.order : order;
    const status = order.kind === "found" ? order.order.status : null;
    this.log("info", "order.lookup", { client_order_index: fx.coi, status, order: shown, tx });
    return { type: "looked_up", ref: fx.ref, order, tx };
  }

  /** The market spec, from the cache while it is younger than CACHE_MS. */
  private async marketSpec(market: number): Promise<SpecJson | null> {
    const key = `market_${market}` as const;
    const cached = this.o.cache?.get(key);
    if (cached) {
      const v = JSON.parse(cached) as { at: number; spec: SpecJson };
      if (this.o.now() - v.at < CACHE_MS)
        return { ...v.spec, minBase: String(v.spec.minBase), minQuote: String(v.spec.minQuote) };
    }
    const d = (await this.o.rest().orderBookDetails(market)).find((x) => x.marketId === market);
    if (!d) return null;
    const spec = specOf(market, d);
    this.o.cache?.set(key, JSON.stringify({ at: this.o.now(), spec }));
    return spec;
  }

  /** Signed position on `market` in size units, from REST, as decimal text. */
  private async position(market: number, sizeDecimals: number): Promise<string> {
    const id = this.o.identity();
    if (!id) throw new Error("the monitor's configuration is gone");
    const acct = await this.o.rest().account(id.account);
    const p = acct.positions.find((x) => x.marketId === market);
    if (!p) return "0";
    const units = rescale(parseDecimal(p.position), sizeDecimals);
    return (p.sign < 0 ? -units : units).toString();
  }

  /** Whether the registered public key of the API key is ours (a match is cached). */
  private async checkApiKey(
    key: PrivateKey,
  ): Promise<{ matches: boolean; detail: Record<string, string | number | null> }> {
    const id = this.o.identity();
    if (!id) throw new Error("the monitor's configuration is gone");
    const ours = key.publicKeyHex();
    const cached = this.o.cache?.get("apikey_check");
    if (cached) {
      const v = JSON.parse(cached) as { at: number; pub: string };
      if (v.pub === ours && this.o.now() - v.at < CACHE_MS) return { matches: true, detail: {} };
    }
    const keys = await this.o.rest().apikeys(id.account, id.apiKeyIndex);
    const theirs = keys
      .find((k) => k.apiKeyIndex === id.apiKeyIndex)
      ?.publicKey.replace(/^0x/i, "")
      .toLowerCase();
    if (theirs !== ours) {
      const detail = {
        api_key_index: id.apiKeyIndex,
        registered_public_key: theirs ?? null,
        configured_public_key: ours,
      };
      return { matches: false, detail };
    }
    this.o.cache?.set("apikey_check", JSON.stringify({ at: this.o.now(), pub: ours }));
    return { matches: true, detail: {} };
  }
}

/** The machine's market spec from orderBookDetails (amounts in the market's integer units). */
export function specOf(
  market: number,
  d: { sizeDecimals: number; priceDecimals: number; minBaseAmount: string; minQuoteAmount: string },
): SpecJson {
  const minQuote = parseDecimal(d.minQuoteAmount);
  return {
    marketIndex: market,
    sizeDecimals: d.sizeDecimals,
    priceDecimals: d.priceDecimals,
    minBase: rescale(parseDecimal(d.minBaseAmount), d.sizeDecimals).toString(),
    minQuote: minQuote.value.toString(),
    quoteDecimals: minQuote.scale,
  };
}

async function fetched<T>(fn: () => Promise<T>): Promise<Fetched<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, outage: isOutage(err), evidence: restEvidence(err) };
  }
}

/** 5xx, timeout or network failure: the exchange is down or unreachable, not our key. */
function isOutage(err: unknown): boolean {
  return !(err instanceof LighterApiError) || err.httpStatus === 0 || err.httpStatus >= 500;
}

/** What a failed REST call showed, for the check's evidence. */
export function restEvidence(err: unknown): Record<string, string | number | null> {
  if (err instanceof LighterApiError) {
    return {
      exchange_code: err.code,
      exchange_message: err.message,
      http_status: err.httpStatus,
      endpoint: err.endpoint,
      code_meaning: describeCode(err.code),
    };
  }
  return { error: errorMessage(err) };
}
