/**
 * The outbox's delivery across targets, through the object's real Alerting over real SQLite
 * (node:sqlite) and real HTTP to local receivers: an alert target that never answers must not hold
 * back the other targets' notifications (each target keeps its own order).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import type { CheckResult } from "../../../worker/alerts/alert-policy.ts";
import type { OutboxItem } from "../../../worker/alerts/deliver.ts";
import type { MonitorConfig } from "../../../worker/config.ts";
import { migrate } from "../../../worker/store/schema.ts";
import { alertingOver, sqlStorage } from "./sqlite.ts";

interface Receiver {
  url: string;
  /** Bodies of the requests answered so far. */
  got: string[];
  /** Requests received and not answered (a hanging target keeps them open). */
  open: number;
  close: () => Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** `answer` false: never answers; `delayMs`: answers that long after the request arrived. */
async function receiver(answer: boolean, delayMs = 0): Promise<Receiver> {
  const r: Receiver = { url: "", got: [], open: 0, close: async () => undefined };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      if (!answer) {
        r.open++;
        res.on("close", () => r.open--);
        return;
      }
      r.got.push(body);
      setTimeout(() => res.writeHead(200).end("ok"), delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = async () => {
    server.closeAllConnections();
  };
  return r;
}

function failing(id: string, at: number): CheckResult {
  return {
    checkId: id,
    at,
    verdict: "fail",
    firstFailingStage: "fill_seen",
    diagnosis: "filled_not_reported_on_ws",
    flatten: null,
    action: null,
    evidence: {},
  };
}

async function until(what: string, ok: () => boolean, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function setup(hangUrl: string, goodUrl: string, schedule?: (at: number) => void) {
  const db = new DatabaseSync(":memory:");
  const sql = sqlStorage(db);
  migrate(sql);
  const webhook = (url: string) => ({ type: "webhook", url, urlSecret: null, secretName: null });
  // The hanging target first: the outbox reads due items oldest first, target by target.
  const targets = [webhook(hangUrl), webhook(goodUrl)] as unknown as MonitorConfig["alerts"]["targets"];
  const alerting = alertingOver(sql, { failAfter: 1, targets }, undefined, schedule);
  return { sql, alerting };
}

describe("alert outbox across targets", () => {
  it("a target that never answers does not hold back another target's notification", { timeout: 20_000 }, async () => {
    const hang = await receiver(false);
    const good = await receiver(true);
    const { sql, alerting } = setup(hang.url, good.url);
    const now = Date.now();
    alerting.onCheck(failing("c1", now));
    const flushed = alerting.flush(now + 1);
    await until("the answering target's notification", () => good.got.length > 0);
    // It arrived while the hanging target's request was still open, not after its timeout.
    expect(hang.open).toBe(1);
    expect(JSON.parse(good.got[0]!)).toMatchObject({ kind: "trigger" });
    await hang.close();
    await flushed;
    const states = sql
      .exec<{ state: string }>(`SELECT state FROM outbox ORDER BY item`)
      .toArray()
      .map((r: { state: string }) => r.state)
      .sort();
    // The answering target's item is sent; the hanging one's stays pending for a retry.
    expect(states).toEqual(["pending", "sent"]);
  });

  it(
    "a notification raised while a hanging target's delivery is in flight reaches the other target at once",
    { timeout: 20_000 },
    async () => {
      const hang = await receiver(false);
      // A slow answer: the resolve below is raised while this target's own attempt is in flight.
      const good = await receiver(true, 300);
      const { alerting } = setup(hang.url, good.url);
      const now = Date.now();
      alerting.onCheck(failing("c1", now));
      const first = alerting.flush(now + 1);
      await until("the first notification", () => good.got.length === 1 && hang.open === 1);
      // The check passes again while target 0 still hangs on the trigger: the resolve is due now.
      alerting.onCheck({ ...failing("c2", now + 2), verdict: "pass", firstFailingStage: null, diagnosis: null });
      const second = alerting.flush(now + 3);
      await until("the resolve at the answering target", () => good.got.length === 2);
      expect(hang.open).toBe(1);
      expect(JSON.parse(good.got[1]!)).toMatchObject({ kind: "resolve" });
      await hang.close();
      await Promise.all([first, second]);
    },
  );

  it(
    "a backlog of a hanging target's older items does not starve another target's new one",
    { timeout: 20_000 },
    async () => {
      const hang = await receiver(false);
      const good = await receiver(true);
      const { sql, alerting } = setup(hang.url, good.url);
      const now = Date.now();
      alerting.onCheck(failing("c1", now));
      const row = sql.exec<{ item: string }>(`SELECT item FROM outbox LIMIT 1`).toArray()[0]!;
      const n = (JSON.parse(row.item) as OutboxItem).notification;
      // 25 older notifications still due for the hanging target only (more than one flush reads).
      for (let i = 0; i < 25; i++) alerting.enqueue({ ...n, idempotencyKey: `old-${i}`, at: now - 60_000 + i }, 0, now);
      const flushed = alerting.flush(now + 1);
      await until("the answering target's notification", () => good.got.length > 0);
      expect(hang.open).toBe(1);
      await hang.close();
      await flushed;
    },
  );

  it(
    "while a target's attempt is in flight, the next deadline ignores its items (no alarm spinning on them)",
    { timeout: 20_000 },
    async () => {
      const hang = await receiver(false);
      const good = await receiver(true);
      const scheduled: number[] = [];
      const { alerting } = setup(hang.url, good.url, (at) => scheduled.push(at));
      const now = Date.now();
      alerting.onCheck(failing("c1", now));
      const first = alerting.flush(now + 1);
      await until("the first notification", () => good.got.length === 1 && hang.open === 1);
      // A second flush while target 0 hangs: nothing else is due, so it sets no deadline (the hanging
      // item is due now; scheduling it would wake the alarm at once, over and over).
      scheduled.length = 0;
      await alerting.flush(now + 2);
      expect(scheduled).toEqual([]);
      await hang.close();
      await first;
      // When the hanging lane ends, its failed item's retry is scheduled, in the future.
      expect(scheduled.length).toBe(1);
      expect(scheduled[0]!).toBeGreaterThan(now + 2);
    },
  );
});
