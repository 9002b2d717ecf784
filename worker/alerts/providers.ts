/**
 * Turns a Notification into the HTTP request each provider expects: generic JSON webhook
 * (optionally HMAC-SHA256 signed), Slack and Discord incoming webhooks, Telegram sendMessage,
 * PagerDuty Events v2 (trigger/resolve with dedup_key = incident id). Secrets go into URLs,
 * headers or routing keys only — never into the text.
 */
import type { AlertTarget } from "../config.ts";
import type { Notification } from "./alert-policy.ts";

export interface ProviderRequest {
  url: string;
  init: { method: "POST"; headers: Record<string, string>; body: string };
}

export interface ResolvedTarget {
  target: AlertTarget;
  /** The URL (from `url` or the secret it names). */
  url: string | null;
  /** HMAC key, Telegram bot token or PagerDuty routing key. */
  secret: string | null;
}

async function hmacHex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function buildRequest(n: Notification, t: ResolvedTarget): Promise<ProviderRequest> {
  const json = (url: string, body: unknown, headers: Record<string, string> = {}): ProviderRequest => ({
    url,
    init: {
      method: "POST",
      headers: { "content-type": "application/json", "x-fillwatch-idempotency-key": n.idempotencyKey, ...headers },
      body: JSON.stringify(body),
    },
  });
  switch (t.target.type) {
    case "webhook": {
      const body = JSON.stringify({
        kind: n.kind,
        incident_id: n.incidentId,
        sequence: n.sequence,
        idempotency_key: n.idempotencyKey,
        monitor: n.monitorId,
        stage: n.stage,
        diagnosis: n.diagnosis,
        title: n.title,
        text: n.text,
        action: n.action,
        evidence: n.evidence,
        at: new Date(n.at).toISOString(),
      });
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-fillwatch-idempotency-key": n.idempotencyKey,
      };
      if (t.secret) headers["x-fillwatch-signature"] = `sha256=${await hmacHex(t.secret, body)}`;
      return { url: t.url!, init: { method: "POST", headers, body } };
    }
    case "slack":
      return json(t.url!, {
        text: n.title,
        blocks: [
          { type: "header", text: { type: "plain_text", text: n.title.slice(0, 150) } },
          { type: "section", text: { type: "mrkdwn", text: n.text.slice(0, 2900) } },
        ],
      });
    case "discord":
      return json(t.url!, {
        content: n.title.slice(0, 1900),
        embeds: [
          {
            title: n.title.slice(0, 250),
            description: n.text.slice(0, 4000),
            color: n.kind === "resolve" ? 0x2ecc71 : 0xe74c3c,
          },
        ],
      });
    case "telegram": {
      const base = (t.url ?? "https://api.telegram.org").replace(/\/+$/, "");
      return json(`${base}/bot${t.secret}/sendMessage`, {
        chat_id: t.target.chatId,
        text: n.text.slice(0, 4000),
        disable_web_page_preview: true,
      });
    }
    case "pagerduty": {
      const base = (t.url ?? "https://events.pagerduty.com").replace(/\/+$/, "");
      const body =
        n.kind === "resolve"
          ? { routing_key: t.secret, event_action: "resolve", dedup_key: n.incidentId }
          : {
              routing_key: t.secret,
              event_action: "trigger",
              dedup_key: n.incidentId,
              payload: {
                summary: n.title.slice(0, 1000),
                source: `fillwatch:${n.monitorId}`,
                severity: n.diagnosis === "filled_not_reported_on_ws" ? "critical" : "error",
                custom_details: { stage: n.stage, diagnosis: n.diagnosis, action: n.action, evidence: n.evidence },
              },
            };
      return json(`${base}/v2/enqueue`, body);
    }
  }
}
