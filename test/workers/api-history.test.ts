/**
 * Uptime and incident history end to end, inside workerd against the simulator: two rejected
 * orders open an incident, a passing check resolves it; GET /incidents and /status keep the
 * resolved incident with its times, duration, diagnosis and action; /status `uptime` and /metrics
 * count the three checks; /logs shows amounts in market units with *_raw twins; the edge rate limit
 * (the MANUAL_RUNS binding) turns a burst of manual runs away.
 */
import { describe, expect, it } from "vitest";
import { addFault, api, clearFault, monitorFor, waitForVerdict } from "./helpers.ts";

const m = monitorFor("api_history");
const q = `monitor=${encodeURIComponent(m.id)}`;

/** Skipped checks seen (a slow machine can make pre-flight refuse): uptime must count them apart. */
let skips = 0;

/** Runs a check to its verdict; a skipped one (neutral for alerts) is retried. */
async function runCheck(): Promise<string> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const res = await api(`/checks/run?${q}`, { method: "POST" });
    expect(res.status).toBe(202);
    const { check_id } = (await res.json()) as { check_id: string };
    const c = await waitForVerdict(m.id, check_id);
    if (c.verdict !== "skipped") return c.verdict!;
    skips++;
  }
  throw new Error("four checks in a row were skipped");
}

interface IncidentJson {
  kind: string;
  state: string;
  opened_at: number;
  opened_at_iso: string;
  resolved_at: number | null;
  resolved_at_iso: string | null;
  duration_ms: number;
  diagnosis: string | null;
  stage: string | null;
  action: string | null;
  failures: number;
}

describe("uptime and incident history", () => {
  it("a resolved incident stays listed; uptime counts pass and fail; /logs amounts are in market units", async () => {
    const fault = await addFault({ name: "reject_tx", code: 21120, account_index: m.account_index });
    expect(await runCheck()).toBe("fail");
    expect(await runCheck()).toBe("fail");
    const open = (await (await api(`/incidents?${q}&state=open`)).json()) as { incidents: IncidentJson[] };
    expect(open.incidents).toHaveLength(1);
    expect(open.incidents[0]).toMatchObject({ kind: "checks", state: "open", resolved_at: null, failures: 2 });
    await clearFault(fault);
    expect(await runCheck()).toBe("pass");

    const page = (await (await api(`/incidents?${q}`)).json()) as { incidents: IncidentJson[]; next_cursor: null };
    expect(page.incidents).toHaveLength(1);
    const inc = page.incidents[0]!;
    expect(inc).toMatchObject({ kind: "checks", state: "resolved", diagnosis: "tx_rejected", stage: "order_accepted" });
    expect(inc.resolved_at! - inc.opened_at).toBe(inc.duration_ms);
    expect(inc.duration_ms).toBeGreaterThan(0);
    expect(inc.opened_at_iso).toBe(new Date(inc.opened_at).toISOString());
    expect(inc.resolved_at_iso).toBe(new Date(inc.resolved_at!).toISOString());
    expect(inc.action!.length).toBeGreaterThan(20);
    expect((await (await api(`/incidents?${q}&state=open`)).json()) as unknown).toEqual({
      incidents: [],
      next_cursor: null,
    });
    expect((await api(`/incidents?${q}&state=closed`)).status).toBe(400);

    const status = (await (await api(`/status?${q}`)).json()) as {
      monitors: {
        uptime: Record<
          string,
          {
            pass: number;
            fail: number;
            skipped: number;
            ratio: number;
            since_iso: string;
            stages: Record<string, { up: number; down: number }>;
          }
        >;
        incident_history: IncidentJson[];
        incidents: unknown[];
      }[];
    };
    const s = status.monitors[0]!;
    expect(s.incidents).toEqual([]);
    expect(s.incident_history.map((i) => i.state)).toEqual(["resolved"]);
    for (const w of ["24h", "7d", "30d"]) {
      expect(s.uptime[w]).toMatchObject({ pass: 1, fail: 2, skipped: skips });
      expect(s.uptime[w]!.ratio).toBeCloseTo(1 / 3);
    }
    expect(s.uptime["24h"]!.stages.order_accepted).toEqual({ up: 1, down: 2, ratio: 1 / 3 });
    expect(s.uptime["24h"]!.stages.preflight).toMatchObject({ up: 3, down: 0 });
    expect(s.uptime["24h"]!.since_iso).toMatch(/T\d{2}:00:00\.000Z$/);

    const metrics = await (await api(`/metrics?${q}`)).text();
    const line = metrics.split("\n").find((l) => l.startsWith("fillwatch_uptime_ratio{") && l.includes('window="24h"'));
    expect(Number(line!.split(" ").pop())).toBeCloseTo(1 / 3);

    const logs = (await (await api(`/logs?${q}&event=check.stage.fill_seen`)).json()) as {
      events: { data: Record<string, unknown> }[];
    };
    expect(logs.events.length).toBeGreaterThan(0);
    const data = logs.events[0]!.data;
    expect(data.filled_base).toMatch(/^[0-9]+\.[0-9]+$/);
    expect(data.filled_base_raw).toMatch(/^[1-9][0-9]*$/);
    const ndjson = await (
      await api(`/logs?${q}&event=check.stage.fill_seen`, { headers: { Accept: "application/x-ndjson" } })
    ).text();
    expect((JSON.parse(ndjson.split("\n")[0]!) as { data: Record<string, unknown> }).data.filled_base).toBe(
      data.filled_base,
    );
  }, 60_000);

  it("a burst of manual runs is turned away at the edge by the MANUAL_RUNS rate-limiting binding", async () => {
    // Paused: every run that passes the edge is a 409 from the object, which records nothing.
    expect((await api(`/pause?${q}`, { method: "POST" })).status).toBe(200);
    const statuses: number[] = [];
    let limited: Response | null = null;
    for (let i = 0; i < 12 && !limited; i++) {
      const res = await api(`/checks/run?${q}`, { method: "POST" });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(limited, JSON.stringify(statuses)).not.toBeNull();
    expect(statuses.slice(0, -1).every((s) => s === 409 || s === 202)).toBe(true);
    expect(statuses.length).toBeLessThanOrEqual(11);
    expect(limited!.headers.get("Retry-After")).toBe("60");
    expect(((await limited!.json()) as { error: { message: string } }).error.message).toMatch(
      /too many manual runs on monitor .* in a minute/,
    );
    expect((await api(`/resume?${q}`, { method: "POST" })).status).toBe(200);
  });
});
