/**
 * One test per failing stage, each driven by a simulator fault scoped to the monitor's own
 * account: verdict, first failing stage, diagnosis, evidence, action text, the alert that reached
 * the local webhook receiver, and the resolve after the fault is cleared.
 */
import { describe, expect, it } from "vitest";
import { ACTIONS } from "../../worker/monitor/diagnosis.ts";
import { addFault, clearFault, monitorFor, receivedAlerts, runCron, waitFor, waitForVerdict } from "./helpers.ts";

let tick = 1_800_100_000_000;
const nextTick = () => (tick += 300_000);

async function checkOnce(scenario: string) {
  const m = monitorFor(scenario);
  await runCron(scenario, nextTick());
  return waitForVerdict(m.id, undefined, 25_000).then(async (c) => {
    // The flatten (if any) finishes before the next check may start.
    await waitFor("flatten to settle", async () => {
      const s = await waitForVerdict(m.id, c.id);
      return s.flatten !== null ? s : null;
    });
    return c;
  });
}

interface Case {
  scenario: string;
  fault: Record<string, unknown>;
  stage: string;
  diagnosis: string;
  evidence?: (e: Record<string, unknown>) => void;
  immediate?: boolean;
}

const cases: Case[] = [
  { scenario: "f_connect", fault: { name: "refuse_connections" }, stage: "connect", diagnosis: "connect_failed" },
  {
    scenario: "f_book",
    fault: { name: "ignore_subscriptions", channel: "order_book" },
    stage: "book_subscribed",
    diagnosis: "book_ack_timeout",
  },
  {
    scenario: "f_auth",
    fault: { name: "reject_auth" },
    stage: "orders_subscribed",
    diagnosis: "auth_rejected",
    evidence: (e) => {
      expect(e.exchange_code).toBe(20013);
      // The outgoing subscribe is in the evidence with its token's signature redacted.
      const frames = JSON.stringify(e.last_frames);
      expect(frames).toMatch(/account_orders\/0\/\d+/);
      expect(frames).toContain(":[redacted]");
      expect(frames).not.toMatch(/:[0-9a-f]{160}/);
    },
  },
  {
    scenario: "f_tx",
    fault: { name: "reject_tx", code: 21120 },
    stage: "order_accepted",
    diagnosis: "tx_rejected",
    evidence: (e) => {
      expect(e.exchange_code).toBe(21120);
      expect(String(e.code_meaning)).toContain("signature");
    },
  },
  {
    scenario: "f_txfail",
    fault: { name: "fail_tx_execution", code: 21739, message: "not enough margin" },
    // sendTx answered 200; the rejection is only in /tx event_info.ae (LIVE.md L.3), status 2.
    stage: "order_accepted",
    diagnosis: "tx_rejected",
    evidence: (e) => {
      expect(e.exchange_code).toBe(21739);
      expect(String(e.exchange_message)).toContain("not enough margin");
      expect(e.source).toBe("/tx event_info.ae");
      expect(e.tx_hash).toMatch(/^[0-9a-f]{80}$/);
    },
  },
  {
    scenario: "f_nomatch",
    fault: { name: "never_match" },
    stage: "fill_seen",
    diagnosis: "not_filled",
    evidence: (e) => expect(String(e.final_status)).toMatch(/^canceled/),
  },
  {
    scenario: "f_withhold",
    fault: { name: "withhold_account_orders" },
    stage: "fill_seen",
    diagnosis: "filled_not_reported_on_ws",
    evidence: (e) => {
      expect(e.tx_hash).toMatch(/^[0-9a-f]{80}$/);
      expect(BigInt(String(e.rest_filled_base_raw))).toBeGreaterThan(0n);
      expect(e.ws_filled_base_raw).toBe("0");
    },
    immediate: true,
  },
];

describe("each failing stage is diagnosed, alerted and resolved", () => {
  for (const c of cases) {
    it(`${c.fault.name} → ${c.stage} / ${c.diagnosis}`, async () => {
      const m = monitorFor(c.scenario);
      const faultId = await addFault({ ...c.fault, account_index: m.account_index });
      try {
        const first = await checkOnce(c.scenario);
        expect(first.verdict, JSON.stringify(first, null, 2)).toBe("fail");
        expect(first.first_failing_stage, JSON.stringify(first, null, 1).slice(0, 3000)).toBe(c.stage);
        expect(first.diagnosis).toBe(c.diagnosis);
        expect(first.action).toBe(ACTIONS[c.diagnosis as keyof typeof ACTIONS]);
        c.evidence?.(first.evidence);
        if (!c.immediate) {
          // fail_after = 2: the first failure alone does not page.
          expect((await receivedAlerts(c.scenario)).length).toBe(0);
          const second = await checkOnce(c.scenario);
          expect(second.diagnosis).toBe(c.diagnosis);
        }
        const alerts = await waitFor("trigger alert", async () => {
          const got = await receivedAlerts(c.scenario);
          return got.length > 0 ? got : null;
        });
        expect(alerts).toHaveLength(1);
        const body = JSON.stringify(alerts[0]!.body);
        expect(body).toContain(c.stage);
        expect(body).toContain(c.diagnosis);
        expect(body).toContain("trigger");
      } finally {
        await clearFault(faultId);
      }
      const healed = await checkOnce(c.scenario);
      expect(healed.verdict, JSON.stringify(healed, null, 2)).toBe("pass");
      const all = await waitFor("resolve alert", async () => {
        const got = await receivedAlerts(c.scenario);
        return got.length >= 2 ? got : null;
      });
      expect(all).toHaveLength(2);
      expect(JSON.stringify(all[1]!.body)).toContain("resolve");
    });
  }
});

describe("flatten", () => {
  it("a flatten the exchange refuses pages at once on its own stream, and resolves when flattening works again", async () => {
    const m = monitorFor("flatten_fail");
    const faultId = await addFault({
      name: "reject_tx",
      code: 21739,
      reduce_only: true,
      account_index: m.account_index,
    });
    let first;
    try {
      first = await checkOnce("flatten_fail");
      expect(first.verdict, JSON.stringify(first)).toBe("pass");
      const done = await waitFor("flatten outcome", async () => {
        const c = await waitForVerdict(m.id, first!.id);
        return c.flatten !== null ? c : null;
      });
      expect(done.flatten).toBe("failed");
      const alerts = await waitFor("flatten alert", async () => {
        const got = await receivedAlerts("flatten_fail");
        return got.length > 0 ? got : null;
      });
      expect(alerts).toHaveLength(1);
      expect(JSON.stringify(alerts[0]!.body)).toContain("flatten_failed");
      expect(String((alerts[0]!.body as { incident_id: string }).incident_id)).toContain(":flatten:");
    } finally {
      await clearFault(faultId);
    }
    // The failed flatten left the test order's fill open (a residue): the next trigger sends no test
    // order, it closes the residue through the flatten, and only that resolves the incident.
    const next = await checkOnce("flatten_fail");
    expect([next.verdict, next.diagnosis], JSON.stringify(next)).toEqual(["skipped", "residue_open"]);
    const healed = await waitFor("flatten ok", async () => {
      const c = await waitForVerdict(m.id, next.id);
      return c.flatten !== null ? c : null;
    });
    expect(healed.flatten).toBe("ok");
    const all = await waitFor("flatten resolve", async () => {
      const got = await receivedAlerts("flatten_fail");
      return got.length >= 2 ? got : null;
    });
    expect(JSON.stringify(all[1]!.body)).toContain("resolve");
  });
});
