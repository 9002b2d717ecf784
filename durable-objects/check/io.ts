/**
 * The check machine's REST and signing effects, each turned into the event that answers it:
 * pre-flight data (market spec and API key check cached an hour, the position), signing a
 * CreateOrder (nonce cached in memory, asked from the exchange when absent or when the machine
 * wants a fresh one; a dry run signs and verifies locally and never advances the nonce), putting
 * the stored bytes on the wire unchanged, and the order/tx and position look-ups. Any answer that
 * is not a parsed record is "unknown", never "absent"; a 5xx, timeout or network error is an outage.
 */
import { parseDecimal, rescale } from "../../worker/lighter/decimal.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { LighterApiError, type LighterRestClient } from "../../worker/lighter/rest.ts";
import type { Effect } from "../../worker/monitor/check/effects.ts";
import type { Event } from "../../worker/monitor/check/events.ts";
import { restObserved, type OrderLookup } from "../../worker/monitor/check/order.ts";
import type { Fetched } from "../../worker/monitor/check/preflight.ts";
import { parseAppError, type SendReply, type TxLookup } from "../../worker/monitor/check/send.ts";
import { signOrder } from "../../worker/monitor/check/sign-order.ts";
import type { SpecJson } from "../../worker/monitor/check/state.ts";
import { describeCode } from "../../worker/monitor/diagnosis.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { getMeta, setMeta } from "../runtime/schema.ts";

type Fx<K extends Effect["kind"]> = Extract<Effect, { kind: K }>;
type Ev<T extends Event["type"]> = Extract<Event, { type: T }>;

const CACHE_MS = 3_600_000;

export class CheckIo {
  /** The next nonce of the monitor's API key, as far as we know (null: ask the exchange). */
  private nonce: bigint | null = null;
  private readonly c: MonitorContext;

  constructor(c: MonitorContext) {
    this.c = c;
  }

  private rest(): LighterRestClient {
    return this.c.rest();
  }

  async preflight(fx: Fx<"preflight_fetch">): Promise<Ev<"preflight_data">> {
    const spec = await fetched(() => this.marketSpec(fx.market));
    const position =
      fx.position && spec.ok && spec.value
        ? await fetched(() => this.position(fx.market, spec.value!.sizeDecimals))
        : null;
    const apiKey = fx.apiKey ? await fetched(() => this.checkApiKey()) : null;
    return { type: "preflight_data", ref: fx.ref, spec, position, apiKey };
  }

  async fetchPosition(fx: Fx<"fetch_position">): Promise<Ev<"position">> {
    return { type: "position", ref: fx.ref, position: await fetched(() => this.position(fx.market, fx.sizeDecimals)) };
  }

  /** Signs; the machine stores the answer (write-ahead) before it asks for a transmission. */
  async sign(fx: Fx<"sign">): Promise<Ev<"signed"> | Ev<"sign_failed">> {
    const cfg = this.c.cfg;
    const failed = (reason: Ev<"sign_failed">["reason"], message: string) =>
      ({ type: "sign_failed", ref: fx.ref, reason, message }) as const;
    if (!cfg) return failed("no_config", "the monitor's configuration is gone");
    if (!this.c.key) return failed("no_key", this.c.keyError ?? "no private key configured");
    let n: bigint;
    try {
      if (fx.freshNonce || this.nonce === null)
        this.nonce = await this.rest().nextNonce(cfg.accountIndex, cfg.apiKeyIndex);
      n = this.nonce;
    } catch (err) {
      return failed("nonce", errorMessage(err));
    }
    try {
      const signed = signOrder(
        fx,
        { account: cfg.accountIndex, apiKeyIndex: cfg.apiKeyIndex, chainId: cfg.chainId, key: this.c.key },
        n,
      );
      if (!signed.ok) return failed("signer", signed.message);
      if (!fx.dryRun) this.nonce = n + 1n;
      const at = { client_order_index: fx.coi, tx_hash: signed.txHash, nonce: n.toString(), dry_run: fx.dryRun };
      this.c.event("info", "order.signed", { ...at, expired_at: fx.expiredAt }, null);
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
  async transmit(fx: Fx<"transmit">, attempt: number): Promise<Ev<"send_reply">> {
    this.c.event("info", "order.send", { client_order_index: fx.coi, tx_hash: fx.txHash, attempt }, null);
    let reply: SendReply;
    try {
      const res = await this.rest().sendTx(fx.txType, fx.txInfo);
      reply = { kind: "http", status: 200, code: res.code, message: res.message ?? "" };
      if (res.txHash && res.txHash !== fx.txHash) {
        this.c.event("warn", "order.tx_hash_mismatch", { ours: fx.txHash, theirs: res.txHash }, null);
      }
    } catch (err) {
      reply =
        err instanceof LighterApiError && err.httpStatus > 0
          ? { kind: "http", status: err.httpStatus, code: err.code, message: err.message }
          : { kind: "no_reply", reason: errorMessage(err) };
    }
    // A 21104 to any transmission means our cached nonce is not the exchange's.
    if (reply.kind === "http" && reply.code === 21104) this.nonce = null;
    const code = reply.kind === "http" ? reply.code : null;
    const detail = { client_order_index: fx.coi, ...reply, code_meaning: describeCode(code) };
    this.c.event("info", "order.send_reply", detail, null);
    return { type: "send_reply", ref: fx.ref, reply };
  }

  /** REST: the order by client order index, and the tx by hash. */
  async lookup(fx: Fx<"lookup">): Promise<Ev<"looked_up">> {
    const cfg = this.c.cfg;
    let order: OrderLookup;
    try {
      if (!cfg) throw new Error("the monitor's configuration is gone");
      const list = await this.rest().accountOrders(cfg.accountIndex, [BigInt(fx.coi)]);
      const found = list.find((x) => x.clientOrderIndex.toString() === fx.coi);
      order = found ? { kind: "found", order: restObserved(found, fx.sizeDecimals) } : { kind: "absent" };
    } catch (err) {
      order = { kind: "unknown", reason: errorMessage(err) };
    }
    let tx: TxLookup;
    try {
      const t = fx.txHash ? await this.rest().tx(fx.txHash) : null;
      tx =
        t && (t.status !== null || t.eventInfo !== null)
          ? { kind: "record", status: t.status, ae: parseAppError(t.eventInfo) }
          : { kind: "unknown", reason: t ? "empty tx record" : "tx not known (yet)" };
    } catch (err) {
      tx = { kind: "unknown", reason: errorMessage(err) };
    }
    const shown = order.kind === "found" ? order.order : order;
    const status = order.kind === "found" ? order.order.status : null;
    this.c.event("info", "order.lookup", { client_order_index: fx.coi, status, order: shown, tx }, null);
    return { type: "looked_up", ref: fx.ref, order, tx };
  }

  /** The market spec, cached an hour in meta `market_<m>` (the API prints amounts with it). */
  private async marketSpec(market: number): Promise<SpecJson | null> {
    const key = `market_${market}` as const;
    const cached = getMeta(this.c.sql, key);
    if (cached) {
      const v = JSON.parse(cached) as { at: number; spec: SpecJson };
      if (this.c.now() - v.at < CACHE_MS)
        return { ...v.spec, minBase: String(v.spec.minBase), minQuote: String(v.spec.minQuote) };
    }
    const details = await this.rest().orderBookDetails(market);
    const d = details.find((x) => x.marketId === market);
    if (!d) return null;
    const minQuote = parseDecimal(d.minQuoteAmount);
    const spec: SpecJson = {
      marketIndex: market,
      sizeDecimals: d.sizeDecimals,
      priceDecimals: d.priceDecimals,
      minBase: rescale(parseDecimal(d.minBaseAmount), d.sizeDecimals).toString(),
      minQuote: minQuote.value.toString(),
      quoteDecimals: minQuote.scale,
    };
    setMeta(this.c.sql, key, JSON.stringify({ at: this.c.now(), spec }));
    return spec;
  }

  /** Signed position on `market` in size units, from REST, as decimal text. */
  private async position(market: number, sizeDecimals: number): Promise<string> {
    const acct = await this.rest().account(this.c.cfg!.accountIndex);
    const p = acct.positions.find((x) => x.marketId === market);
    if (!p) return "0";
    const units = rescale(parseDecimal(p.position), sizeDecimals);
    return (p.sign < 0 ? -units : units).toString();
  }

  /** Whether the registered public key of the API key is ours (a match is cached an hour). */
  private async checkApiKey(): Promise<{ matches: boolean; detail: Record<string, string | number | null> }> {
    const cfg = this.c.cfg!;
    const ours = this.c.key!.publicKeyHex();
    const cached = getMeta(this.c.sql, "apikey_check");
    if (cached) {
      const v = JSON.parse(cached) as { at: number; pub: string };
      if (v.pub === ours && this.c.now() - v.at < CACHE_MS) return { matches: true, detail: {} };
    }
    const keys = await this.rest().apikeys(cfg.accountIndex, cfg.apiKeyIndex);
    const theirs =
      keys
        .find((k) => k.apiKeyIndex === cfg.apiKeyIndex)
        ?.publicKey.replace(/^0x/i, "")
        .toLowerCase() ?? null;
    if (theirs !== ours) {
      const detail = { api_key_index: cfg.apiKeyIndex, registered_public_key: theirs, configured_public_key: ours };
      return { matches: false, detail };
    }
    setMeta(this.c.sql, "apikey_check", JSON.stringify({ at: this.c.now(), pub: ours }));
    return { matches: true, detail: {} };
  }
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
  if (!(err instanceof LighterApiError)) return true;
  return err.httpStatus === 0 || err.httpStatus >= 500;
}

function restEvidence(err: unknown): Record<string, string | number | null> {
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
