/**
 * Delivery with retry: network errors, 429 (honouring Retry-After) and 5xx are retried with
 * capped exponential backoff and jitter; other 4xx are final. The Durable Object keeps an outbox
 * and calls `deliverOnce` from its alarm; errors never carry the URL (it may hold a token).
 */
import type { ProviderRequest } from "./providers.ts";

export interface OutboxItem {
  id: string;
  targetIndex: number;
  notification: import("./alert-policy.ts").Notification;
  attempts: number;
  nextAt: number;
  state: "pending" | "sent" | "failed";
  lastError: string | null;
}

export const MAX_ATTEMPTS = 8;
const BASE_DELAY_MS = 2_000;
const MAX_DELAY_MS = 10 * 60_000;

export type DeliveryResult =
  | { ok: true; status: number }
  | { ok: false; status: number | null; retryAfterMs: number | null; final: boolean; error: string };

export async function deliverOnce(
  req: ProviderRequest,
  fetchFn: typeof fetch = fetch,
  timeoutMs = 10_000,
): Promise<DeliveryResult> {
  let res: Response;
  try {
    res = await fetchFn(req.url, { ...req.init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    return {
      ok: false,
      status: null,
      retryAfterMs: null,
      final: false,
      error: name === "TimeoutError" ? "timed out" : "network error",
    };
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.ok) return { ok: true, status: res.status };
  const ra = res.headers.get("retry-after");
  const retryAfterMs = ra && /^\d+$/.test(ra) ? Number(ra) * 1000 : null;
  const retryable = res.status === 429 || res.status >= 500;
  return { ok: false, status: res.status, retryAfterMs, final: !retryable, error: `HTTP ${res.status}` };
}

/** The outbox item after an attempt (pure). */
export function nextAttempt(
  item: OutboxItem,
  result: DeliveryResult,
  now: number,
  random: () => number = Math.random,
): OutboxItem {
  const attempts = item.attempts + 1;
  if (result.ok) return { ...item, attempts, state: "sent", lastError: null };
  if (result.final || attempts >= MAX_ATTEMPTS) return { ...item, attempts, state: "failed", lastError: result.error };
  const backoff = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempts - 1));
  const delay = Math.max(result.retryAfterMs ?? 0, Math.round(backoff / 2 + random() * (backoff / 2)));
  return { ...item, attempts, state: "pending", nextAt: now + delay, lastError: result.error };
}
