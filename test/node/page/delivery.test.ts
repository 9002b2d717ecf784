/** The status page's delivery-latency and bot part: a row per channel and market with both windows; nothing without data. */
import { describe, expect, it } from "vitest";
import { Delivery } from "../../../worker/page/delivery.tsx";

const p = (p50: number, samples: number) => ({ p50, p90: p50 * 2, p99: p50 * 3, samples });

async function html(status: unknown): Promise<string> {
  const el = Delivery({ status, now: 10_000 }) as { toString(): string | Promise<string> } | null;
  return el ? String(await el.toString()) : "";
}

describe("delivery latency on the page", () => {
  it("renders each channel and market with the hour and the day, the bot's lag and its counts", async () => {
    const out = await html({
      delivery_latency_ms: { account_orders: { "0": p(40, 12) } },
      delivery_latency_ms_24h: { account_orders: { "0": p(50, 300) }, account_all_trades: { "1": p(7, 3) } },
      bot_lag_ms: { "1h": { "0": p(200, 5) }, "24h": {} },
      watch: {
        bot: {
          enabled: true,
          silent: false,
          last_contact_at: 8_000,
          window_ms: 10_000,
          fills: { reported: 5, missed: 1 },
          recent_misses: [{ order_index: "281476612587355123", trade_at: 1_000, amount: "0.0100" }],
        },
      },
    });
    expect(out).toContain('data-latency="account_orders/0"');
    expect(out).toContain('data-latency="account_all_trades/1"');
    expect(out).toContain('data-latency="bot (seen_at)/0"');
    expect(out).toMatch(/40 ?ms \/ 80 ?ms \/ 120 ?ms \(12\)/);
    expect(out).toContain("(300)");
    expect(out).toContain("5 reported, 0 late, 1 missed, 0 phantom");
    expect(out).toContain("281476612587355123");
  });

  it("renders nothing for a monitor without delivery data or a bot", async () => {
    expect(await html({ session: {} })).toBe("");
  });
});
