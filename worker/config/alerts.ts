/**
 * The `alerts` block of one MONITORS entry: thresholds, the heartbeat URL and the alert targets.
 * URLs must be https (http only to loopback); secret references must name `ALERT_*` secrets.
 */
import { printExactJson, type ExactJson } from "../lighter/json.ts";
import { secretReferenceProblem } from "./secrets.ts";
import type { AlertTarget, ConfigProblem, MonitorConfig } from "./types.ts";
import { outboundUrlProblem } from "./urls.ts";

const ALERT_KEYS = new Set([
  "fail_after",
  "resolve_after",
  "degraded_counts",
  "remind_every_minutes",
  "heartbeat_url",
  "targets",
]);
const TARGET_KEYS = new Set(["type", "url", "url_secret", "secret_name", "chat_id"]);
const TARGET_TYPES = new Set(["webhook", "slack", "discord", "telegram", "pagerduty"]);

/** A short, printable rendering of any parsed JSON value, for messages. */
export function describe(v: ExactJson | undefined): string {
  if (v === undefined) return "nothing";
  const s = printExactJson(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function isObject(v: ExactJson | undefined): v is { [key: string]: ExactJson } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses `alerts` (at `at`, e.g. "MONITORS[0]"), pushing every problem it finds.
 *
 * @example
 * parseAlerts({ fail_after: 3n }, "MONITORS[0]", problems).failAfter // 3
 */
export function parseAlerts(
  raw: ExactJson | undefined,
  at: string,
  problems: ConfigProblem[],
): MonitorConfig["alerts"] {
  const err = (setting: string, message: string, fix: string) =>
    problems.push({ severity: "error", setting: `${at}.${setting}`, message, fix });
  const warn = (setting: string, message: string, fix: string) =>
    problems.push({ severity: "warning", setting: `${at}.${setting}`, message, fix });
  const alerts: MonitorConfig["alerts"] = {
    failAfter: 2,
    resolveAfter: 1,
    degradedCounts: false,
    remindEveryMs: 3_600_000,
    targets: [],
    heartbeatUrl: null,
  };
  if (raw === undefined || raw === null) return alerts;
  if (!isObject(raw)) {
    err("alerts", "alerts must be an object", 'e.g. "alerts": {"fail_after": 2, "targets": [...]}');
    return alerts;
  }
  const a = raw;
  for (const k of Object.keys(a))
    if (!ALERT_KEYS.has(k))
      warn(
        `alerts.${k}`,
        `unknown setting alerts.${k} is ignored`,
        `remove it or check its spelling (known: ${[...ALERT_KEYS].join(", ")})`,
      );
  const ai = (k: string, min: number, max: number, def: number) => {
    const v = a[k];
    if (v === undefined || v === null) return def;
    if (typeof v === "bigint" && v >= BigInt(min) && v <= BigInt(max)) return Number(v);
    err(`alerts.${k}`, `alerts.${k} must be an integer from ${min} to ${max}`, `fix alerts.${k}`);
    return def;
  };
  alerts.failAfter = ai("fail_after", 1, 100, 2);
  alerts.resolveAfter = ai("resolve_after", 1, 100, 1);
  alerts.remindEveryMs = ai("remind_every_minutes", 1, 10_080, 60) * 60_000;
  if (a.degraded_counts !== undefined && a.degraded_counts !== null) {
    if (typeof a.degraded_counts === "boolean") alerts.degradedCounts = a.degraded_counts;
    else err("alerts.degraded_counts", "alerts.degraded_counts must be true or false", "set it to true or false");
  }
  const hb = a.heartbeat_url;
  if (hb !== undefined && hb !== null) {
    const why = typeof hb === "string" ? outboundUrlProblem(hb) : "must be a string";
    if (why)
      err("alerts.heartbeat_url", `alerts.heartbeat_url ${why}`, 'set "heartbeat_url": "https://…" (or remove it)');
    else alerts.heartbeatUrl = hb as string;
  }
  if (a.targets === undefined || a.targets === null) return alerts;
  if (!Array.isArray(a.targets)) {
    err(
      "alerts.targets",
      "alerts.targets must be a list",
      'e.g. [{"type":"webhook","url_secret":"ALERT_WEBHOOK_URL"}]',
    );
    return alerts;
  }
  a.targets.forEach((t, j) => {
    const target = parseTarget(t, `alerts.targets[${j}]`, at, problems);
    if (target) alerts.targets.push(target);
  });
  return alerts;
}

function parseTarget(t: ExactJson, where: string, at: string, problems: ConfigProblem[]): AlertTarget | null {
  const before = problems.length;
  const err = (setting: string, message: string, fix: string) =>
    problems.push({ severity: "error", setting: `${at}.${setting}`, message, fix });
  if (!isObject(t)) {
    err(where, "an alert target must be an object", 'e.g. {"type":"slack","url_secret":"ALERT_SLACK_WEBHOOK_URL"}');
    return null;
  }
  for (const k of Object.keys(t))
    if (!TARGET_KEYS.has(k))
      problems.push({
        severity: "warning",
        setting: `${at}.${where}.${k}`,
        message: `unknown setting ${where}.${k} is ignored`,
        fix: `remove it or check its spelling (known: ${[...TARGET_KEYS].join(", ")})`,
      });
  const type = t.type;
  if (typeof type !== "string" || !TARGET_TYPES.has(type))
    err(
      `${where}.type`,
      `unknown alert target type ${describe(type)}`,
      "use webhook, slack, discord, telegram or pagerduty",
    );
  const text = (k: string): string | null => {
    const v = t[k];
    if (v === undefined || v === null) return null;
    if (typeof v === "string") return v;
    err(`${where}.${k}`, `${where}.${k} must be a string`, `quote ${k}`);
    return null;
  };
  const url = text("url");
  if (url !== null) {
    const why = outboundUrlProblem(url);
    if (why)
      err(
        `${where}.url`,
        `${where}.url ${why}`,
        'use an https URL, better still "url_secret" (the URL is a credential)',
      );
  }
  const urlSecret = text("url_secret");
  const secretName = text("secret_name");
  for (const [k, name] of [
    ["url_secret", urlSecret],
    ["secret_name", secretName],
  ] as const) {
    const p = name === null ? null : secretReferenceProblem("alert", name, `${at}.${where}.${k}`);
    if (p) problems.push(p);
  }
  const chatRaw = t.chat_id;
  const chatId = typeof chatRaw === "string" ? chatRaw : typeof chatRaw === "bigint" ? chatRaw.toString() : null;
  if (chatRaw !== undefined && chatRaw !== null && chatId === null)
    err(`${where}.chat_id`, `${where}.chat_id must be a string or an integer`, 'e.g. "chat_id": "-100123"');
  if ((type === "webhook" || type === "slack" || type === "discord") && !url && !urlSecret)
    err(
      where,
      `a ${type} target needs url or url_secret`,
      'add "url_secret": "ALERT_<NAME>" (the URL is a credential)',
    );
  if (type === "telegram" && (!secretName || !chatId))
    err(
      where,
      "a telegram target needs secret_name (bot token) and chat_id",
      'add "secret_name": "ALERT_TELEGRAM_BOT_TOKEN" and "chat_id"',
    );
  if (type === "pagerduty" && !secretName)
    err(
      where,
      "a pagerduty target needs secret_name (the routing key)",
      'add "secret_name": "ALERT_PAGERDUTY_ROUTING_KEY"',
    );
  if (problems.slice(before).some((p) => p.severity === "error")) return null;
  return { type: type as AlertTarget["type"], url, urlSecret, secretName, chatId };
}
