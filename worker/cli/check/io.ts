/**
 * The check machine's REST and signing effects over `fetch`, for `fillwatch check`: each effect is
 * carried out with the Lighter REST client and the signer and answered with the event the machine
 * expects. Failures are mapped to the machine's vocabulary: an exchange outage (5xx, timeout,
 * network) is an outage, any answer that is not a parsed record is "unknown", never "absent".
 */
import { parseDecimal, rescale } from "../../lighter/decimal.ts";
import { errorMessage } from "../../lighter/errors.ts";
import type { PrivateKey } from "../../lighter/keys.ts";
import { LighterApiError, type LighterRestClient } from "../../lighter/rest.ts";
import { describeCode } from "../../monitor/diagnosis.ts";
import type { Effect } from "../../monitor/check/effects.ts";
import type { Event } from "../../monitor/check/events.ts";
import { restObserved, type OrderLookup } from "../../monitor/check/order.ts";
import type { Fetched } from "../../monitor/check/preflight.ts";
import { parseAppError, type SendReply, type TxLookup } from "../../monitor/check/send.ts";
import { signOrder } from "../../monitor/check/sign-order.ts";
import type { SpecJson } from "../../monitor/check/state.ts";

export interface Io {
  rest: LighterRestClient;
  key: PrivateKey | null;
  account: bigint;
  apiKeyIndex: number;
  chainId: number;
  /** The next nonce to sign with (null: ask the exchange). */
  nonce: bigint | null;
}

function isOutage(err: unknown): boolean {
  return !(err instanceof LighterApiError) || err.httpStatus === 0 || err.httpStatus >= 500;
}

function evidence(err: unknown): Record<string, string | number | null> {
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

async function fetched<T>(fn: () => Promise<T>): Promise<Fetched<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, outage: isOutage(err), evidence: evidence(err) };
  }
}

async function spec(io: Io, market: number): Promise<SpecJson | null> {
  const d = (await io.rest.orderBookDetails(market)).find((x) => x.marketId === market);
  if (!d) return null;
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

async function position(io: Io, market: number, sizeDecimals: number): Promise<string> {
  const acct = await io.rest.account(io.account);
  const p = acct.positions.find((x) => x.marketId === market);
  if (!p) return "0";
  const units = rescale(parseDecimal(p.position), sizeDecimals);
  return (p.sign < 0 ? -units : units).toString();
}

async function apiKey(io: Io): Promise<{ matches: boolean; detail: Record<string, string | number | null> }> {
  const ours = io.key!.publicKeyHex();
  const keys = await io.rest.apikeys(io.account, io.apiKeyIndex);
  const theirs =
    keys
      .find((k) => k.apiKeyIndex === io.apiKeyIndex)
      ?.publicKey.replace(/^0x/i, "")
      .toLowerCase() ?? null;
  if (theirs === ours) return { matches: true, detail: {} };
  return {
    matches: false,
    detail: { api_key_index: io.apiKeyIndex, registered_public_key: theirs, configured_public_key: ours },
  };
}

/** Carries out one REST or signing effect; resolves with the machine's answer (null: none expected). */
export async function perform(io: Io, fx: Effect): Promise<Event | null> {
  switch (fx.kind) {
    case "preflight_fetch": {
      const s = await fetched(() => spec(io, fx.market));
      const decimals = s.ok && s.value ? s.value.sizeDecimals : null;
      const pos = fx.position && decimals !== null ? await fetched(() => position(io, fx.market, decimals)) : null;
      const key = fx.apiKey && io.key ? await fetched(() => apiKey(io)) : null;
      return { type: "preflight_data", ref: fx.ref, spec: s, position: pos, apiKey: key };
    }
    case "sign":
      return sign(io, fx);
    case "transmit":
      return { type: "send_reply", ref: fx.ref, reply: await transmit(io, fx.txType, fx.txInfo) };
    case "lookup":
      return { type: "looked_up", ref: fx.ref, ...(await lookup(io, fx.coi, fx.txHash, fx.sizeDecimals)) };
    case "fetch_position":
      return { type: "position", ref: fx.ref, position: await fetched(() => position(io, fx.market, fx.sizeDecimals)) };
    default:
      return null;
  }
}

async function sign(io: Io, fx: Extract<Effect, { kind: "sign" }>): Promise<Event> {
  if (!io.key) return { type: "sign_failed", ref: fx.ref, reason: "no_key", message: "no private key configured" };
  let nonce: bigint;
  try {
    if (fx.freshNonce || io.nonce === null) io.nonce = await io.rest.nextNonce(io.account, io.apiKeyIndex);
    nonce = io.nonce;
  } catch (err) {
    return { type: "sign_failed", ref: fx.ref, reason: "nonce", message: errorMessage(err) };
  }
  try {
    const signed = signOrder(
      fx,
      { account: io.account, apiKeyIndex: io.apiKeyIndex, chainId: io.chainId, key: io.key },
      nonce,
    );
    if (!signed.ok) return { type: "sign_failed", ref: fx.ref, reason: "signer", message: signed.message };
    // A dry run keeps the nonce unused.
    if (!fx.dryRun) io.nonce = nonce + 1n;
    return {
      type: "signed",
      ref: fx.ref,
      txType: signed.txType,
      txInfo: signed.txInfo,
      txHash: signed.txHash,
      nonce: nonce.toString(),
      expiredAt: fx.expiredAt,
    };
  } catch (err) {
    return { type: "sign_failed", ref: fx.ref, reason: "signer", message: errorMessage(err) };
  }
}

async function transmit(io: Io, txType: number, txInfo: string): Promise<SendReply> {
  try {
    const r = await io.rest.sendTx(txType, txInfo);
    return { kind: "http", status: 200, code: r.code, message: r.message ?? "" };
  } catch (err) {
    if (err instanceof LighterApiError && err.httpStatus > 0) {
      // 21104: our cached nonce is wrong; the next signature asks the exchange.
      if (err.code === 21104) io.nonce = null;
      return { kind: "http", status: err.httpStatus, code: err.code, message: err.message };
    }
    return { kind: "no_reply", reason: errorMessage(err) };
  }
}

async function lookup(
  io: Io,
  coi: string,
  txHash: string,
  sizeDecimals: number,
): Promise<{ order: OrderLookup; tx: TxLookup }> {
  let order: OrderLookup;
  try {
    const found = (await io.rest.accountOrders(io.account, [BigInt(coi)])).find(
      (x) => x.clientOrderIndex.toString() === coi,
    );
    order = found ? { kind: "found", order: restObserved(found, sizeDecimals) } : { kind: "absent" };
  } catch (err) {
    order = { kind: "unknown", reason: errorMessage(err) };
  }
  let tx: TxLookup;
  try {
    const t = await io.rest.tx(txHash);
    tx =
      t && (t.status !== null || t.eventInfo !== null)
        ? { kind: "record", status: t.status, ae: parseAppError(t.eventInfo) }
        : { kind: "unknown", reason: t ? "empty tx record" : "tx not known (yet)" };
  } catch (err) {
    tx = { kind: "unknown", reason: errorMessage(err) };
  }
  return { order, tx };
}
