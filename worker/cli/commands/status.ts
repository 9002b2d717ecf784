/**
 * `fillwatch status`: fetches the deployed `GET /status` (bearer token in the Authorization header,
 * never in the URL or any output) and prints it as a table, or the raw JSON with --json. A
 * connection failure, a 401 or a 5xx is one clear line and exit 1.
 */
import { parseExactJson, type ExactJson } from "../../lighter/json.ts";
import { UsageError, type Command } from "../args.ts";
import { out } from "../output.ts";
import { exactJsonText, formatStatus, printable, type StatusBody } from "./status-format.ts";

/** A failure talking to the deployment: one line, exit 1. */
export class StatusError extends Error {}

const TIMEOUT_MS = 20_000;

function statusUrl(base: string): URL {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new UsageError("--url must be an absolute URL such as https://fillwatch.example.workers.dev");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new UsageError("--url must be http:// or https://");
  if (u.username || u.password) throw new UsageError("--url must not hold credentials; use --token");
  if (u.search) throw new UsageError("--url must not have a query string");
  u.hash = "";
  const path = u.pathname.replace(/\/+$/, "");
  u.pathname = path.endsWith("/status") ? path : `${path}/status`;
  return u;
}

function reason(e: unknown): string {
  const cause = e instanceof Error ? (e.cause as NodeJS.ErrnoException | undefined) : undefined;
  switch (cause?.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ECONNRESET":
      return "connection reset";
    default:
      if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError"))
        return `no answer within ${TIMEOUT_MS / 1000} s`;
      return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : "request failed");
  }
}

export const status: Command = {
  name: "status",
  summary: "show the deployed monitor's status: last check, session, incidents, config problems",
  flags: [
    { name: "url", value: "URL", help: "the deployed worker's URL (or env FILLWATCH_URL)", optional: true },
    { name: "token", value: "T", help: "the API bearer token (or env FILLWATCH_TOKEN; never printed)", optional: true },
    { name: "monitor", value: "ID", help: "only this monitor", optional: true },
    { name: "json", help: "print the raw /status JSON", optional: true },
  ],
  exit1: "the deployment could not be reached or refused the request (401, 5xx)",
  async run(f) {
    const base = f.get("url") ?? process.env.FILLWATCH_URL;
    if (!base) throw new UsageError("missing --url (or FILLWATCH_URL)");
    const token = f.get("token") ?? process.env.FILLWATCH_TOKEN;
    if (!token) throw new UsageError("missing --token (or FILLWATCH_TOKEN)");
    if (!/^[\x21-\x7e]+$/.test(token)) throw new UsageError("--token must be printable ASCII without spaces");
    const url = statusUrl(base);
    const where = `${url.origin}${url.pathname}`;
    // Server text shown in a terminal: the token (should it be echoed) redacted, no control characters.
    const hide = (s: string) => printable(s.split(token).join("[redacted]")).slice(0, 300);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: "error",
      });
    } catch (e) {
      throw new StatusError(`cannot reach ${where}: ${hide(reason(e))}`);
    }
    const text = await res.text().catch(() => "");
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const env = body as { error?: { message?: unknown } } | undefined;
      const msg = typeof env?.error?.message === "string" ? `: ${hide(env.error.message)}` : "";
      const hint = res.status === 401 ? " (check --token / FILLWATCH_TOKEN)" : "";
      throw new StatusError(`${where} answered ${res.status} ${hide(res.statusText)}${msg}${hint}`);
    }
    const monitors = (body as StatusBody | undefined)?.monitors;
    if (!Array.isArray(monitors)) throw new StatusError(`${where} did not answer with a fillwatch /status body`);
    const b = body as StatusBody;
    const id = f.get("monitor");
    if (id !== undefined) {
      const m = monitors.filter((x) => x.id === id);
      if (m.length === 0)
        throw new UsageError(
          `--monitor: no monitor ${JSON.stringify(id)} (have: ${monitors.map((x) => x.id).join(", ")})`,
        );
      b.monitors = m;
    }
    if (!f.has("json")) out(formatStatus(b, Date.now()));
    else if (id === undefined) out(text.trimEnd());
    else {
      // Exact integers: the raw JSON may hold order indexes above 2^53.
      const exact = parseExactJson(text) as { monitors: ExactJson[] };
      exact.monitors = exact.monitors.filter((m) => (m as { id?: unknown }).id === id);
      out(exactJsonText(exact));
    }
    return 0;
  },
};
