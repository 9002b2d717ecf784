/**
 * POST /alerts/test: one test notification through every alert target of a monitor, with the
 * existing providers (buildRequest) and delivery (deliverOnce, no retries), reporting each
 * delivery's target type, HTTP status, latency and error. URLs and secrets never appear in the
 * report (deliverOnce's errors never carry the URL). A PagerDuty target opens a real incident
 * there, so its test alert is resolved a minute later (same dedup_key) through the monitor's outbox.
 */
import type { MonitorConfig } from "../config.ts";
import { secretReader } from "../secrets.ts";
import { deliverOnce } from "../alerts/deliver.ts";
import type { Notification } from "../alerts/alert-policy.ts";
import { buildRequest } from "../alerts/providers.ts";

export interface DeliveryReport {
  target: string;
  index: number;
  ok: boolean;
  status: number | null;
  latency_ms: number;
  error: string | null;
}

export function testNotification(monitorId: string, now: number): Notification {
  const id = `test-${now.toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
  return {
    incidentId: id,
    kind: "trigger",
    sequence: 0,
    idempotencyKey: `${id}:test`,
    monitorId,
    title: `[fillwatch] TEST alert for ${monitorId} (no action needed)`,
    text: `This is a test alert sent with POST /alerts/test for monitor ${monitorId}. If you read this, the target works.`,
    stage: null,
    diagnosis: "test_alert",
    action: "none: this is a test",
    evidence: { test: true },
    at: now,
  };
}

/** How long a PagerDuty test incident stays open before fillwatch resolves it. */
export const TEST_RESOLVE_AFTER_MS = 60_000;

/** The resolve of a test alert (PagerDuty closes the incident with the same dedup_key). */
export function testResolve(n: Notification, at: number): Notification {
  return {
    ...n,
    kind: "resolve",
    sequence: 1,
    idempotencyKey: `${n.incidentId}:test:resolve`,
    title: `[fillwatch] TEST alert for ${n.monitorId} resolved (no action needed)`,
    text: `The test alert sent with POST /alerts/test for monitor ${n.monitorId} is resolved.`,
    action: null,
    evidence: { test: true },
    at,
  };
}

export async function sendTestAlert(
  env: Env,
  m: MonitorConfig,
  now: number,
): Promise<{ notification: Notification; deliveries: DeliveryReport[] }> {
  const n = testNotification(m.id, now);
  return { notification: n, deliveries: await deliver(env, m, n) };
}

async function deliver(env: Env, m: MonitorConfig, n: Notification): Promise<DeliveryReport[]> {
  const secret = secretReader(env);
  const read = (name: string | null) => (name ? secret(name) : null);
  return Promise.all(
    m.alerts.targets.map(async (target, index): Promise<DeliveryReport> => {
      const url = target.urlSecret ? read(target.urlSecret) : target.url;
      const secret = read(target.secretName);
      const needsUrl = target.type !== "telegram" && target.type !== "pagerduty";
      const needsSecret = target.type === "telegram" || target.type === "pagerduty";
      if ((needsUrl && !url) || (needsSecret && !secret)) {
        return {
          target: target.type,
          index,
          ok: false,
          status: null,
          latency_ms: 0,
          error: "alert target or its secret is not configured",
        };
      }
      const req = await buildRequest(n, { target, url, secret });
      const t0 = Date.now();
      const r = await deliverOnce(req);
      const latency = Date.now() - t0;
      return r.ok
        ? { target: target.type, index, ok: true, status: r.status, latency_ms: latency, error: null }
        : { target: target.type, index, ok: false, status: r.status, latency_ms: latency, error: r.error };
    }),
  );
}
