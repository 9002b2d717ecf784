/**
 * What the status page shows, read from each monitor's Durable Object in one RPC: status (session,
 * order lock, open incidents, fill latency), the pause, the recent checks, uptime and the incident
 * history. The public view is cut down here to
 * verdicts and times only, so no evidence can reach a public page by accident.
 */
import { errorMessage } from "../lighter/errors.ts";
import type { StatusView } from "../views/status.ts";
import { latestChecks, type CheckRecord } from "../views/checks.ts";
import type { IncidentRecord } from "../views/incidents.ts";
import type { PauseState } from "../views/pause.ts";
import type { Uptime } from "../views/uptime.ts";
import { typed } from "../api/monitors.ts";
import type { MonitorConfig } from "../config.ts";
import { monitorStub } from "../stub.ts";
import type { StatusPage } from "../../durable-objects/rpc-types.ts";

/** How many recent checks the timeline and the charts use. */
export const HISTORY = 60;
/** How many incidents the page lists (open and resolved). */
export const INCIDENTS = 10;

export interface MonitorPage {
  id: string;
  network: string;
  mode: string;
  markets: number[];
  status: StatusView | null;
  pause: PauseState | null;
  /** Newest first. */
  checks: CheckRecord[];
  uptime: Uptime | null;
  /** Newest first, open and resolved. */
  incidents: IncidentRecord[];
  error: string | null;
}

export interface PublicCheck {
  verdict: string | null;
  started_at: number;
}

export interface PublicMonitor {
  id: string;
  /** The last concluded verdict, or null if none yet. */
  verdict: string | null;
  /** Newest first: verdicts and times only. */
  checks: PublicCheck[];
}

export async function loadMonitor(env: Env, m: MonitorConfig): Promise<MonitorPage> {
  const base = { id: m.id, network: m.network, mode: m.mode, markets: m.markets };
  try {
    // One RPC per monitor (FillMonitor.statusPage), the checks page included.
    const r = await typed<StatusPage>(
      monitorStub(env, m).statusPage(m.id, { incidents: INCIDENTS, checks: latestChecks(HISTORY) }),
    );
    const { status, pause, uptime } = r;
    return {
      ...base,
      status,
      pause,
      checks: r.checks?.checks ?? [],
      uptime,
      incidents: r.incidents.incidents,
      error: null,
    };
  } catch (err) {
    return { ...base, status: null, pause: null, checks: [], uptime: null, incidents: [], error: errorMessage(err) };
  }
}

/** The last concluded verdict among checks (newest first). */
export function currentVerdict(checks: { verdict: string | null; state?: string }[]): string | null {
  for (const c of checks) if (c.verdict && c.state !== "running") return c.verdict;
  return null;
}

/** A public monitor: verdicts and start times, nothing else leaves the object. */
export async function loadPublic(env: Env, m: MonitorConfig): Promise<PublicMonitor> {
  const full = await loadMonitor(env, m);
  const checks = full.checks.map((c) => ({
    verdict: c.state === "running" ? null : c.verdict,
    started_at: c.started_at,
  }));
  return { id: m.id, verdict: currentVerdict(full.checks), checks };
}
