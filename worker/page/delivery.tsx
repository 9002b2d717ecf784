/**
 * The watch monitor's part of a card on the status page (hono/jsx, server-rendered): the exchange's
 * delivery latency per channel and market (p50/p90/p99 over the last hour and 24 hours), the
 * bot-reported lag, and the user's bot's reconciliation (contact, verdict counts, recent misses).
 * Renders nothing for a monitor without them.
 */
import { humanMs } from "./charts.ts";

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

interface P {
  p50: number;
  p90: number;
  p99: number;
  samples: number;
}
type Table = Record<string, Record<string, P>>;

interface BotPart {
  enabled?: boolean;
  silent?: boolean | null;
  last_contact_at?: number | null;
  window_ms?: number | null;
  fills?: Record<string, number>;
  recent_misses?: { order_index: string; trade_at: number; amount: string }[];
}

function rows(hour: Table, day: Table) {
  const out: { channel: string; market: string; h: P | null; d: P | null }[] = [];
  const keys = new Set<string>();
  for (const t of [hour, day])
    for (const [ch, ms] of Object.entries(t)) for (const m of Object.keys(ms)) keys.add(`${ch}\u0000${m}`);
  for (const k of [...keys].sort()) {
    const [channel, market] = k.split("\u0000") as [string, string];
    out.push({ channel, market, h: hour[channel]?.[market] ?? null, d: day[channel]?.[market] ?? null });
  }
  return out;
}

const cell = (p: P | null) => (p ? `${humanMs(p.p50)} / ${humanMs(p.p90)} / ${humanMs(p.p99)} (${p.samples})` : "–");

export function Delivery(props: { status: unknown; now: number }) {
  const s = props.status as {
    delivery_latency_ms?: Table;
    delivery_latency_ms_24h?: Table;
    bot_lag_ms?: { "1h"?: Record<string, P>; "24h"?: Record<string, P> };
    watch?: { bot?: BotPart };
  };
  if (!s.delivery_latency_ms && !s.watch?.bot?.enabled) return null;
  const lat = rows(
    { ...(s.delivery_latency_ms ?? {}), ...(s.bot_lag_ms?.["1h"] ? { "bot (seen_at)": s.bot_lag_ms["1h"] } : {}) },
    {
      ...(s.delivery_latency_ms_24h ?? {}),
      ...(s.bot_lag_ms?.["24h"] ? { "bot (seen_at)": s.bot_lag_ms["24h"] } : {}),
    },
  );
  const bot = s.watch?.bot;
  return (
    <div data-delivery>
      <h3>Delivery latency (transaction_time → receipt)</h3>
      {lat.length === 0 ? (
        <p class="empty">No account frame yet.</p>
      ) : (
        <table class="latency">
          <thead>
            <tr>
              <th>channel</th>
              <th>market</th>
              <th>last hour p50 / p90 / p99 (samples)</th>
              <th>24 h</th>
            </tr>
          </thead>
          <tbody>
            {lat.map((r) => (
              <tr data-latency={`${r.channel}/${r.market}`}>
                <td>{r.channel}</td>
                <td>{r.market}</td>
                <td>{cell(r.h)}</td>
                <td>{cell(r.d)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {bot?.enabled ? (
        <>
          <h3>Your bot</h3>
          <p data-bot>
            {bot.silent ? <strong>silent</strong> : "reporting"} · last report{" "}
            {typeof bot.last_contact_at === "number" ? `${humanMs(props.now - bot.last_contact_at)} ago` : "never"} ·{" "}
            {["reported", "late", "missed", "phantom"].map((k) => `${bot.fills?.[k] ?? 0} ${k}`).join(", ")}
            {bot.window_ms ? ` (window ${humanMs(bot.window_ms)})` : ""}
          </p>
          {(bot.recent_misses ?? []).length > 0 ? (
            <ul data-bot-misses>
              {(bot.recent_misses ?? []).slice(-5).map((mi) => (
                <li>
                  missed: order {mi.order_index} · {mi.amount} · traded {iso(mi.trade_at)}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
