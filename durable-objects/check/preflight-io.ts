/**
 * Gathers what the pre-flight decision needs (worker/monitor/check/preflight.ts): the market spec
 * (cached), the REST position, the API key check against `apikeys` (cached), the book, the budget
 * and the pause switch. REST failures are kept with whether they look like an exchange outage.
 */
import { parseDecimal, rescale } from "../../worker/lighter/decimal.ts";
import { LighterApiError, type LighterRestClient } from "../../worker/lighter/rest.ts";
import type { Fetched, PreflightInputs } from "../../worker/monitor/check/preflight.ts";
import { describeCode } from "../../worker/monitor/diagnosis.ts";
import type { MarketSpec } from "../../worker/monitor/sizing.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { getMeta, setMeta } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import type { Feed } from "./feed.ts";

const MARKET_CACHE_MS = 3_600_000;
const API_KEY_CACHE_MS = 3_600_000;

export async function gatherPreflight(c: MonitorContext, feed: Feed, market: number): Promise<PreflightInputs> {
  const cfg = c.cfg!;
  const rest = c.rest();
  const spec = await fetched(() => marketSpec(c, rest, market));
  const position =
    c.key && spec.ok && spec.value ? await fetched(() => restPosition(c, rest, market, spec.value!)) : null;
  const apiKey = c.key ? await fetched(() => checkApiKey(c, rest)) : null;
  // The book is read in one synchronous moment after every await: a resync in between (gap,
  // reset, new snapshot) must never mix an old top with a new readiness.
  const book = feed.books.get(market);
  const top = book?.top();
  return {
    now: c.now(),
    // Entries with errors are not loaded at all; what can still refuse a loaded monitor is its key secret.
    configErrors: c.problems.filter((p) => p.severity === "error" && p.setting === cfg.privateKeySecretName).length,
    cfg,
    market,
    spec,
    book: {
      ready: book?.isReady ?? false,
      bestBid: top?.bestBid ? { price: top.bestBid.price, text: top.bestBid.priceText } : null,
      bestAsk: top?.bestAsk ? { price: top.bestAsk.price, text: top.bestAsk.priceText } : null,
      updatedAt: feed.bookUpdatedAt.get(market) ?? 0,
      bids: book?.levels("bids").length ?? 0,
      asks: book?.levels("asks").length ?? 0,
    },
    position,
    tradedBefore: getMeta(c.sql, `traded_${market}`) === "1",
    budget: budgetToday(c),
    key: { present: c.key !== null, error: c.keyError },
    apiKey,
  };
}

export function isPaused(c: MonitorContext): boolean {
  const raw = getMeta(c.sql, "paused");
  return raw === "1" || (raw !== null && raw.startsWith("{"));
}

/** Orders signed today (test and flatten alike) and their notional. */
export function budgetToday(c: MonitorContext): { ordersToday: number; notionalTodayUsd: number; dayStart: number } {
  const dayStart = Math.floor(c.now() / 86_400_000) * 86_400_000;
  const row = c.sql
    .exec<{ n: number; notional: number | null }>(
      `SELECT COUNT(*) AS n, SUM(notional_usd) AS notional FROM orders
       WHERE created_at >= ? AND send_state != 'unsigned' AND send_state != 'rejected'`,
      dayStart,
    )
    .toArray()[0];
  return { ordersToday: row?.n ?? 0, notionalTodayUsd: row?.notional ?? 0, dayStart };
}

async function fetched<T>(fn: () => Promise<T>): Promise<Fetched<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, outage: isOutage(err), evidence: restEvidence(err) };
  }
}

/** 5xx, timeout or network failure: the exchange is down or unreachable, not our key. */
export function isOutage(err: unknown): boolean {
  if (!(err instanceof LighterApiError)) return true;
  return err.httpStatus === 0 || err.httpStatus >= 500;
}

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

export async function marketSpec(
  c: MonitorContext,
  rest: LighterRestClient,
  market: number,
): Promise<MarketSpec | null> {
  const key = `market_${market}` as const;
  const cached = getMeta(c.sql, key);
  if (cached) {
    const v = JSON.parse(cached) as { at: number; spec: Record<string, string | number> };
    if (c.now() - v.at < MARKET_CACHE_MS) {
      const j = v.spec;
      return {
        marketIndex: Number(j.marketIndex),
        sizeDecimals: Number(j.sizeDecimals),
        priceDecimals: Number(j.priceDecimals),
        minBase: BigInt(j.minBase as string),
        minQuote: BigInt(j.minQuote as string),
        quoteDecimals: Number(j.quoteDecimals),
      };
    }
  }
  const details = await rest.orderBookDetails(market);
  const d = details.find((x) => x.marketId === market);
  if (!d) return null;
  const minBase = parseDecimal(d.minBaseAmount);
  const minQuote = parseDecimal(d.minQuoteAmount);
  const spec: MarketSpec = {
    marketIndex: market,
    sizeDecimals: d.sizeDecimals,
    priceDecimals: d.priceDecimals,
    minBase: rescale(minBase, d.sizeDecimals),
    minQuote: minQuote.value,
    quoteDecimals: minQuote.scale,
  };
  const stored = { ...spec, minBase: spec.minBase.toString(), minQuote: spec.minQuote.toString() };
  setMeta(c.sql, key, JSON.stringify({ at: c.now(), spec: stored }));
  return spec;
}

/** Signed position on `market` in size units, from REST. */
export async function restPosition(
  c: MonitorContext,
  rest: LighterRestClient,
  market: number,
  spec: MarketSpec,
): Promise<bigint> {
  const acct = await rest.account(c.cfg!.accountIndex);
  const p = acct.positions.find((x) => x.marketId === market);
  if (!p) return 0n;
  const units = rescale(parseDecimal(p.position), spec.sizeDecimals);
  return p.sign < 0 ? -units : units;
}

export async function checkApiKey(
  c: MonitorContext,
  rest: LighterRestClient,
): Promise<{ matches: boolean; detail: Record<string, string | number | null> }> {
  const cfg = c.cfg!;
  const ours = c.key!.publicKeyHex();
  const cached = getMeta(c.sql, "apikey_check");
  if (cached) {
    const v = JSON.parse(cached) as { at: number; pub: string };
    if (v.pub === ours && c.now() - v.at < API_KEY_CACHE_MS) return { matches: true, detail: {} };
  }
  const keys = await rest.apikeys(cfg.accountIndex, cfg.apiKeyIndex);
  const entry = keys.find((k) => k.apiKeyIndex === cfg.apiKeyIndex);
  const theirs = entry?.publicKey.replace(/^0x/i, "").toLowerCase() ?? null;
  if (theirs !== ours) {
    return {
      matches: false,
      detail: { api_key_index: cfg.apiKeyIndex, registered_public_key: theirs, configured_public_key: ours },
    };
  }
  setMeta(c.sql, "apikey_check", JSON.stringify({ at: c.now(), pub: ours }));
  return { matches: true, detail: {} };
}
