/**
 * What a `sendTx` reply and a `/tx` record mean for our order (LIVE.md L.2, L.3). HTTP 200 only
 * means "accepted by the API": an application rejection arrives later, and only in `/tx` →
 * `event_info` (a JSON string) → `ae` (another JSON string), while `status` reads 2 either way.
 * Any `/tx` answer that is not a parsed record (21500, empty, 5xx, timeout) is unknown, never absent.
 */

/** A sendTx round trip as the REST client saw it. */
export type SendReply =
  { kind: "http"; status: number; code: number | null; message: string } | { kind: "no_reply"; reason: string };

export type SendOutcome =
  /** HTTP 200 / code 200: the API took it; the application verdict may still come from `/tx`. */
  | { kind: "accepted" }
  /** An immediate 4xx with an exchange code (signature, format…): nothing executed. */
  | { kind: "rejected"; code: number; message: string }
  /** 21104: the nonce was replayed or skipped. On a first transmission nothing executed. */
  | { kind: "nonce_rejected"; message: string }
  /** 429 / 23000 from the gateway: nothing executed. */
  | { kind: "rate_limited"; code: number; message: string }
  /** 5xx, timeout, network error, malformed body: the tx may or may not have executed. */
  | { kind: "unknown"; reason: string };

export const CODE_INVALID_NONCE = 21104;
export const CODE_RATE_LIMITED = 23000;

/**
 * @example
 * classifySend({ kind: "http", status: 400, code: 21104, message: "invalid nonce" }) // nonce_rejected
 */
export function classifySend(reply: SendReply): SendOutcome {
  if (reply.kind === "no_reply") return { kind: "unknown", reason: reply.reason };
  const { status, code, message } = reply;
  if (status === 429 || code === CODE_RATE_LIMITED) return { kind: "rate_limited", code: code ?? 429, message };
  if (status >= 500 || status === 0) return { kind: "unknown", reason: `HTTP ${status}: ${message}` };
  if (status === 200 && (code === 200 || code === null)) return { kind: "accepted" };
  if (code === CODE_INVALID_NONCE) return { kind: "nonce_rejected", message };
  if (code !== null && code !== 200) return { kind: "rejected", code, message };
  return { kind: "unknown", reason: `HTTP ${status} without an exchange code: ${message}` };
}

/** The application's verdict on a tx: a non-empty `ae`. */
export interface AppError {
  code: number | null;
  message: string;
}

/** What `/tx` said about a hash. */
export type TxLookup =
  { kind: "record"; status: number | null; ae: AppError | null } | { kind: "unknown"; reason: string };

/**
 * Reads the application error out of a `/tx` record. `event_info` is a JSON string; its `ae` is
 * `""` for an accepted tx and, live, a JSON string `{"code":…,"message":…}` for a rejected one. An
 * older form (PROTOCOL.md §2.8) puts an error name such as `"AppErrInvalidNonce"` there: it counts too.
 *
 * @example
 * parseAppError('{"ae":"{\\"code\\":21728,\\"message\\":\\"client order index already exists\\"}"}')
 * // { code: 21728, message: "client order index already exists" }
 */
export function parseAppError(eventInfo: string | null): AppError | null {
  if (!eventInfo) return null;
  let ev: unknown;
  try {
    ev = JSON.parse(eventInfo);
  } catch {
    return null;
  }
  if (!ev || typeof ev !== "object") return null;
  const ae = (ev as Record<string, unknown>).ae;
  if (ae === undefined || ae === null || ae === "") return null;
  if (typeof ae === "object") return appErrorFromObject(ae as Record<string, unknown>, JSON.stringify(ae));
  if (typeof ae !== "string") return { code: null, message: String(ae) };
  try {
    const inner = JSON.parse(ae) as unknown;
    if (inner && typeof inner === "object") return appErrorFromObject(inner as Record<string, unknown>, ae);
  } catch {
    // an error name, not JSON
  }
  return { code: null, message: ae };
}

function appErrorFromObject(o: Record<string, unknown>, raw: string): AppError {
  const code = typeof o.code === "number" && Number.isInteger(o.code) ? o.code : null;
  const message = typeof o.message === "string" ? o.message : raw;
  return { code, message };
}
