/**
 * A full synthetic check against the simulator, end to end through the real cron handler:
 * every stage timestamped, the fill recorded, the position flattened, /status showing it.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import worker from "../../worker/index.ts";
import { STAGES } from "../../worker/monitor/diagnosis.ts";
import { api, monitorFor, monitorStatus, received, runCron, sim, waitFor, waitForVerdict } from "./helpers.ts";

describe("a passing check", () => {
  it("walks every stage in order and records the fill", async () => {
    const m = monitorFor("pass");
    await runCron("pass", 1_800_000_000_000);
    const check = await waitForVerdict(m.id);
    expect(check.verdict, JSON.stringify(check, null, 2)).toBe("pass");
    expect(check.stages.order_accepted, JSON.stringify(check, null, 2)).toBeDefined();
    expect(check.first_failing_stage).toBeNull();
    expect(check.diagnosis).toBeNull();
    for (const stage of STAGES) {
      expect(check.stages[stage], `stage ${stage}`).toBeDefined();
      expect(check.stages[stage]!.ms).toBeGreaterThanOrEqual(0);
    }
    const order = STAGES.map((s) => check.stages[s]!.at);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(check.evidence.tx_hash).toMatch(/^[0-9a-f]{80}$/);

    const res = await api(`/orders/${check.client_order_index}?monitor=${encodeURIComponent(m.id)}`);
    expect(res.status).toBe(200);
    const o = (await res.json()) as {
      send_state: string;
      filled_base: string;
      ws_filled_base: string;
      ws_filled_base_raw: string;
      events: { kind: string }[];
    };
    expect(o.send_state).toBe("accepted");
    expect(BigInt(o.ws_filled_base_raw)).toBeGreaterThan(0n);
    expect(o.events.some((e) => e.kind === "fill")).toBe(true);

    // Flatten is reported beside the verdict and confirmed from the REST position.
    const flat = await waitFor("flatten", async () => {
      const s = await monitorStatus(m.id);
      return s.last_check?.flatten ? s.last_check : null;
    });
    expect(flat.flatten).toBe("ok");
    // The exchange agrees: one order for this tick, and the position is flat again.
    const state = (await (await sim(`/_sim/state?account_index=${m.account_index}`)).json()) as {
      orders: { client_order_id: string }[];
      accounts: { positions: Record<string, string> }[];
    };
    expect(state.orders.filter((o) => o.client_order_id === check.client_order_index)).toHaveLength(1);
    expect(state.accounts[0]!.positions["0"]).toBe("0");
    // The dead-man's switch was pinged after the completed check.
    const beats = await waitFor("heartbeat", async () => {
      const got = await received("/heartbeat/pass");
      return got.length > 0 ? got : null;
    });
    expect(beats[0]!.body).toMatchObject({ monitor: m.id, check_id: check.id });
  });

  it("a monitor with its own schedule runs only on that cron trigger", async () => {
    const m = monitorFor("status");
    const cfg = (JSON.parse(inject("monitorsJson")) as { account_index: number }[]).find(
      (c) => c.account_index === m.account_index,
    )!;
    const scheduled = JSON.stringify([{ ...cfg, schedule: "0 * * * *" }]);
    const fire = async (cron: string, scheduledTime: number) => {
      const ctx = createExecutionContext();
      await worker.scheduled(
        createScheduledController({ scheduledTime, cron }),
        { ...(env as object), MONITORS: scheduled } as never,
        ctx,
      );
      await waitOnExecutionContext(ctx);
    };
    const count = async () =>
      ((await (await api(`/checks?monitor=${encodeURIComponent(m.id)}&limit=50`)).json()) as { checks: unknown[] })
        .checks.length;
    const before = await count();
    await fire("*/5 * * * *", 1_800_000_600_000);
    expect(await count()).toBe(before);
    await fire("0 * * * *", 1_800_000_900_000);
    expect(await count()).toBe(before + 1);
    await waitForVerdict(m.id);
  });

  it("ignores a repeated delivery of the same cron invocation", async () => {
    const m = monitorFor("duplicate");
    await runCron("duplicate", 1_800_000_300_000);
    const first = await waitForVerdict(m.id);
    await runCron("duplicate", 1_800_000_300_000);
    const res = await api(`/checks?monitor=${encodeURIComponent(m.id)}&limit=10`);
    const body = (await res.json()) as { checks: { id: string }[] };
    expect(body.checks.map((c) => c.id)).toEqual([first.id]);
  });
});
