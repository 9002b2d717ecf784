/**
 * dashboards/grafana.json and dashboards/alerts.yml against the real /metrics of this Worker: both
 * parse (JSON; YAML with the `yaml` package), every fillwatch_* name they use is a family /metrics
 * declares (histogram series by their _bucket/_sum/_count), the dashboard covers verdicts, stage and
 * fill latency, reconnects, book gaps, alerts and unresolved orders, and the rules cover a failing,
 * a blind and a stale monitor with the labels and annotations Alertmanager needs.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import dashboardText from "../../dashboards/grafana.json?raw";
import rulesText from "../../dashboards/alerts.yml?raw";
import { api } from "./helpers.ts";

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; refId: string }[];
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

async function families(): Promise<Map<string, string>> {
  const text = await (await api("/metrics")).text();
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Whether /metrics has this series name: a family, or a histogram's _bucket/_sum/_count. */
function exposes(fams: Map<string, string>, name: string): boolean {
  if (fams.has(name)) return fams.get(name) !== "histogram";
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m !== null && fams.get(m[1]!) === "histogram";
}

const names = (expr: string) => [...expr.matchAll(/\bfillwatch_[a-z0-9_]+/g)].map((m) => m[0]);

describe("dashboards", () => {
  it("the Grafana dashboard parses and uses only metrics /metrics exposes", async () => {
    const fams = await families();
    expect(fams.size).toBeGreaterThan(15);
    const d = JSON.parse(dashboardText) as {
      title: string;
      uid: string;
      panels: Panel[];
      templating: { list: { query: { query: string } }[] };
    };
    expect(d.title).toBe("fillwatch");
    const panels = d.panels.filter((p) => p.type !== "row");
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    const exprs = [...panels.flatMap((p) => p.targets ?? []).map((t) => t.expr), d.templating.list[0]!.query.query];
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.datasource?.uid, p.title).toBe("${DS_PROMETHEUS}");
    }
    const used = new Set(exprs.flatMap(names));
    for (const n of used) expect(exposes(fams, n), `${n} is not in /metrics`).toBe(true);
    for (const n of [
      "fillwatch_checks_total",
      "fillwatch_uptime_ratio",
      "fillwatch_stage_latency_seconds_bucket",
      "fillwatch_fill_latency_seconds_bucket",
      "fillwatch_reconnects_total",
      "fillwatch_book_gaps_total",
      "fillwatch_alerts_sent_total",
      "fillwatch_alerts_failed_total",
      "fillwatch_unresolved_orders",
    ])
      expect(used, n).toContain(n);
    // A name that is not exposed is caught (the check can fail).
    expect(exposes(fams, "fillwatch_fill_latency_ms_bucket")).toBe(false);
    expect(exposes(fams, "fillwatch_reconnects_total_bucket")).toBe(false);
  });

  it("the Prometheus rules parse and cover a failing, a blind and a stale monitor", async () => {
    const fams = await families();
    const doc = parse(rulesText) as { groups: { name: string; rules: Rule[] }[] };
    const rules = doc.groups.flatMap((g) => g.rules);
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^Fillwatch[A-Za-z]+$/);
      expect(["critical", "warning"]).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      if (r.for !== undefined) expect(r.for).toMatch(/^[0-9]+[smh]$/);
      for (const n of names(r.expr)) expect(exposes(fams, n), `${r.alert}: ${n} is not in /metrics`).toBe(true);
    }
    const byName = new Map(rules.map((r) => [r.alert, r.expr]));
    expect(byName.get("FillwatchMonitorFailing")).toContain('fillwatch_incidents_open{kind="checks"}');
    expect(byName.get("FillwatchMonitorBlind")).toContain('fillwatch_incidents_open{kind="monitor"}');
    expect(byName.get("FillwatchMonitorStale")).toContain("fillwatch_last_check_timestamp_seconds");
  });
});
