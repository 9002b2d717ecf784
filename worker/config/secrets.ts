/**
 * Which secret a MONITORS field may name. A config edit must never make the Worker read a
 * write-only secret and send it somewhere: alert fields (`url_secret`, `secret_name`) may only name
 * `ALERT_*` secrets, `private_key_secret` only `LIGHTER_PRIVATE_KEY__*`, `watch.read_token_secret` only
 * `LIGHTER_READ_TOKEN__*` (a read-only API token, PROTOCOL.md §5.8), and `API_TOKEN` and
 * `WATCH_INGEST_TOKEN__*` can never be referenced.
 */
import type { ConfigProblem } from "./types.ts";

export type SecretRole = "alert" | "private_key" | "read_token";

export const ALERT_SECRET_PREFIX = "ALERT_";
export const PRIVATE_KEY_SECRET_PREFIX = "LIGHTER_PRIVATE_KEY__";
export const READ_TOKEN_SECRET_PREFIX = "LIGHTER_READ_TOKEN__";

const NAME_RE = /^[A-Z][A-Z0-9_]*$/;

/** Secrets no configuration field may name, whatever the field. */
function neverReferenced(name: string): boolean {
  return name === "API_TOKEN" || name.startsWith("WATCH_INGEST_TOKEN__");
}

/** A name made of the characters a secret name may hold, upper-cased. */
function sanitize(name: string): string {
  const s = name
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, "_")
    .slice(0, 100);
  return s === "" ? "NAME" : s;
}

/**
 * The problem with naming `name` in a field of the given role, or null when it is allowed.
 *
 * @example
 * secretReferenceProblem("alert", "SLACK_WEBHOOK_URL", "MONITORS[0].alerts.targets[0].url_secret")?.fix
 * // 'rename the secret to "ALERT_SLACK_WEBHOOK_URL" …'
 */
export function secretReferenceProblem(role: SecretRole, name: string, setting: string): ConfigProblem | null {
  const field = setting.slice(setting.lastIndexOf(".") + 1);
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  const prefix =
    role === "alert"
      ? ALERT_SECRET_PREFIX
      : role === "read_token"
        ? READ_TOKEN_SECRET_PREFIX
        : PRIVATE_KEY_SECRET_PREFIX;
  if (NAME_RE.test(name) && name.startsWith(prefix) && name.length > prefix.length && !neverReferenced(name))
    return null;
  const error = (message: string, fix: string): ConfigProblem => ({ severity: "error", setting, message, fix });
  if (neverReferenced(name))
    return error(
      `${field} names ${shown}, a secret no setting may reference`,
      role === "alert"
        ? `store the alert credential in its own secret, e.g. "ALERT_WEBHOOK_URL", and name that`
        : role === "read_token"
          ? `store the read-only token in its own secret, e.g. "LIGHTER_READ_TOKEN__MAIN", and name that`
          : `remove ${field} to use the default LIGHTER_PRIVATE_KEY__<NETWORK>_<ACCOUNT>_<APIKEY>`,
    );
  if (role === "read_token") {
    const renamed = `${READ_TOKEN_SECRET_PREFIX}${sanitize(name.replace(/^LIGHTER_READ_TOKEN_*/i, ""))}`;
    return error(
      `${field} names ${shown}: a read-only token may only come from a secret whose name starts with ${READ_TOKEN_SECRET_PREFIX}`,
      `rename the secret to "${renamed}" (wrangler secret put ${renamed}) and set ${field} to "${renamed}"`,
    );
  }
  if (role === "alert") {
    if (name.startsWith(PRIVATE_KEY_SECRET_PREFIX))
      return error(
        `${field} names the private key secret ${shown}: alert targets may only read ALERT_* secrets`,
        `store the alert credential in its own secret, e.g. "ALERT_WEBHOOK_URL", and name that`,
      );
    const renamed = `${ALERT_SECRET_PREFIX}${sanitize(name.replace(/^ALERT_*/i, ""))}`;
    return error(
      `${field} names ${shown}: alert targets may only read secrets whose names start with ALERT_`,
      `rename the secret to "${renamed}" (wrangler secret put ${renamed}) and set ${field} to "${renamed}"`,
    );
  }
  if (name.startsWith(ALERT_SECRET_PREFIX))
    return error(
      `${field} names the alert secret ${shown}: a private key may only come from a LIGHTER_PRIVATE_KEY__* secret`,
      `remove ${field} to use the default LIGHTER_PRIVATE_KEY__<NETWORK>_<ACCOUNT>_<APIKEY>`,
    );
  const renamed = `${PRIVATE_KEY_SECRET_PREFIX}${sanitize(name.replace(/^LIGHTER_PRIVATE_KEY_*/i, ""))}`;
  return error(
    `${field} names ${shown}: a private key may only come from a secret whose name starts with LIGHTER_PRIVATE_KEY__`,
    `rename the secret to "${renamed}" and set ${field} to "${renamed}" (or remove ${field} to use the default name)`,
  );
}
