/** Alert policy sequences, provider payloads, HMAC, and delivery retries against a real receiver. */
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { deliverOnce, nextAttempt, type OutboxItem } from "../../../worker/alerts/deliver.ts";
import {
  DEFAULT_POLICY,
  applyCheck,
  initialAlertState,
  type AlertState,
  type CheckResult,
  type Notification,
} from "../../../worker/alerts/alert-policy.ts";
import { buildRequest } from "../../../worker/alerts/providers.ts";

let n = 0;
const result = (
  verdict: CheckResult["verdict"],
  diagnosis: string | null = verdict === "fail" ? "not_filled" : null,
  at = 1_000 + n * 60_000,
): CheckResult => ({
  checkId: `c${++n}`,
  at,
  verdict,
  firstFailingStage: verdict === "fail" ? "fill_seen" : null,
  diagnosis,
  flatten: null,
  action: "do the thing",
  evidence: { tx_hash: "ab".repeat(40), exchange_code: 21739 },
});

function run(seq: CheckResult[], cfg = DEFAULT_POLICY): { state: AlertState; sent: Notification[] } {
  let state = initialAlertState();
  const sent: Notification[] = [];
  for (const r of seq) {
    const out = applyCheck(state, r, "testnet:1:3", cfg);
    state = out.state;
    sent.push(...out.notifications);
  }
  return { state, sent };
}

describe("alert policy", () => {
  it("an open incident shows the current diagnosis and keeps the earlier ones", () => {
    const { state } = run([
      result("fail", "not_filled"),
      result("fail", "not_filled"),
      result("fail", "fill_timeout"),
      result("fail", "tx_rejected"),
    ]);
    expect(state.open?.diagnosis).toBe("tx_rejected");
    expect(state.open?.history).toEqual(["not_filled", "fill_timeout", "tx_rejected"]);
  });

  it("fires on the Nth consecutive failure, once; skipped is neutral; resolves after M passes", () => {
    const { sent } = run([result("fail"), result("skipped"), result("fail"), result("fail"), result("pass")]);
    expect(sent.map((s) => s.kind)).toEqual(["trigger", "resolve"]);
    expect(sent[0]!.incidentId).toBe(sent[1]!.incidentId);
    expect(sent[0]!.text).toContain("fill_seen");
    expect(sent[0]!.text).toContain("not_filled");
    expect(sent[0]!.text).toContain("do the thing");
    expect(sent[0]!.idempotencyKey).toBe(`${sent[0]!.incidentId}:trigger:0`);
  });
  it("a pass between failures breaks the streak; degraded counts only when configured", () => {
    expect(run([result("fail"), result("pass"), result("fail")]).sent).toEqual([]);
    expect(run([result("degraded", "late_report"), result("degraded", "late_report")]).sent).toEqual([]);
    expect(
      run([result("degraded", "late_report"), result("degraded", "late_report")], {
        ...DEFAULT_POLICY,
        degradedCounts: true,
      }).sent.map((s) => s.kind),
    ).toEqual(["trigger"]);
  });
  it("filled_not_reported_on_ws alerts immediately", () => {
    expect(run([result("fail", "filled_not_reported_on_ws")]).sent.map((s) => s.kind)).toEqual(["trigger"]);
  });
  it("reminds at the interval while failing; a new outage is a new incident; replaying a check sends nothing", () => {
    const seq = [
      result("fail"),
      result("fail"),
      result("fail"),
      result("fail", "not_filled", 1_000 + (n + 1) * 60_000 + 3_600_000),
      result("pass"),
      result("fail"),
      result("fail"),
    ];
    const { sent } = run(seq);
    expect(sent.map((s) => s.kind)).toEqual(["trigger", "remind", "resolve", "trigger"]);
    expect(sent[3]!.incidentId).not.toBe(sent[0]!.incidentId);
    expect(sent[1]!.idempotencyKey.endsWith(":remind:1")).toBe(true);
    let state = initialAlertState();
    const r = result("fail", "filled_not_reported_on_ws");
    state = applyCheck(state, r, "m", DEFAULT_POLICY).state;
    expect(applyCheck(state, r, "m", DEFAULT_POLICY).notifications).toEqual([]);
  });
});

describe("providers", () => {
  const note = run([result("fail", "filled_not_reported_on_ws")]).sent[0]!;
  it("webhook: JSON with the incident, signed with HMAC-SHA256 over the body", async () => {
    const req = await buildRequest(note, {
      target: { type: "webhook", url: "http://h", urlSecret: null, secretName: "S", chatId: null },
      url: "http://h/x",
      secret: "hmac-key",
    });
    const body = JSON.parse(req.init.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      kind: "trigger",
      stage: "fill_seen",
      diagnosis: "filled_not_reported_on_ws",
      monitor: "testnet:1:3",
    });
    expect(req.init.headers["x-fillwatch-signature"]).toBe(
      `sha256=${createHmac("sha256", "hmac-key").update(req.init.body).digest("hex")}`,
    );
    expect(req.init.body).not.toContain("hmac-key");
  });
  it("slack, discord, telegram and pagerduty shapes; secrets only in URL or routing key", async () => {
    const slack = await buildRequest(note, {
      target: { type: "slack", url: null, urlSecret: "U", secretName: null, chatId: null },
      url: "https://hooks/x",
      secret: null,
    });
    expect(JSON.parse(slack.init.body)).toHaveProperty("blocks");
    const discord = await buildRequest(note, {
      target: { type: "discord", url: "https://d", urlSecret: null, secretName: null, chatId: null },
      url: "https://d",
      secret: null,
    });
    expect(JSON.parse(discord.init.body).embeds[0].title).toContain("FAILING");
    const tg = await buildRequest(note, {
      target: { type: "telegram", url: "http://127.0.0.1:9", urlSecret: null, secretName: "T", chatId: "42" },
      url: "http://127.0.0.1:9",
      secret: "bot-token",
    });
    expect(tg.url).toBe("http://127.0.0.1:9/botbot-token/sendMessage");
    expect(JSON.parse(tg.init.body)).toMatchObject({ chat_id: "42" });
    expect(tg.init.body).not.toContain("bot-token");
    const pd = await buildRequest(note, {
      target: { type: "pagerduty", url: null, urlSecret: null, secretName: "P", chatId: null },
      url: null,
      secret: "rk",
    });
    expect(JSON.parse(pd.init.body)).toMatchObject({
      routing_key: "rk",
      event_action: "trigger",
      dedup_key: note.incidentId,
      payload: { severity: "critical" },
    });
    const [trig, resolve] = run([result("fail", "filled_not_reported_on_ws"), result("pass")]).sent;
    expect(
      JSON.parse(
        (
          await buildRequest(resolve!, {
            target: { type: "pagerduty", url: null, urlSecret: null, secretName: "P", chatId: null },
            url: null,
            secret: "rk",
          })
        ).init.body,
      ),
    ).toEqual({ routing_key: "rk", event_action: "resolve", dedup_key: trig!.incidentId });
  });
});

describe("delivery against a real local receiver", () => {
  it("retries 500 and 429 (honouring Retry-After) with backoff, stops on 4xx, succeeds on 200", async () => {
    const replies = [500, 429, 200, 404];
    const server = createServer((req, res) => {
      const status = replies.shift() ?? 200;
      if (status === 429) res.setHeader("retry-after", "7");
      res.statusCode = status;
      res.end("x");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const note = run([result("fail", "filled_not_reported_on_ws")]).sent[0]!;
    const req = await buildRequest(note, {
      target: { type: "webhook", url, urlSecret: null, secretName: null, chatId: null },
      url,
      secret: null,
    });
    let item: OutboxItem = {
      id: "i",
      targetIndex: 0,
      notification: note,
      attempts: 0,
      nextAt: 0,
      state: "pending",
      lastError: null,
    };
    try {
      item = nextAttempt(item, await deliverOnce(req), 1_000, () => 0.5);
      expect(item).toMatchObject({ state: "pending", attempts: 1, lastError: "HTTP 500" });
      expect(item.nextAt).toBeGreaterThan(1_000);
      item = nextAttempt(item, await deliverOnce(req), 2_000, () => 0.5);
      expect(item.nextAt).toBeGreaterThanOrEqual(9_000);
      item = nextAttempt(item, await deliverOnce(req), 3_000);
      expect(item.state).toBe("sent");
      const gone = nextAttempt({ ...item, state: "pending" }, await deliverOnce(req), 4_000);
      expect(gone.state).toBe("failed");
      const net = await deliverOnce({ ...req, url: "http://127.0.0.1:1/closed" });
      expect(net).toMatchObject({ ok: false, final: false });
      expect(JSON.stringify(net)).not.toContain("127.0.0.1");
    } finally {
      server.close();
    }
  });
});
