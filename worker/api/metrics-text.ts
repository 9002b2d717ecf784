/**
 * The Prometheus text writer (format 0.0.4) every /metrics family is written with: HELP and TYPE
 * lines, samples with escaped labels, histograms in seconds.
 */
import { LATENCY_BUCKETS_MS, type Histogram } from "../views/metrics.ts";

export type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function fmtLabels(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export class Out {
  private lines: string[] = [];
  family(name: string, type: "counter" | "gauge" | "histogram", help: string, samples: (() => void) | null): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    samples?.();
  }
  sample(name: string, labels: Labels, value: number): void {
    this.lines.push(`${name}${fmtLabels(labels)} ${num(value)}`);
  }
  histogram(name: string, labels: Labels, h: Histogram): void {
    LATENCY_BUCKETS_MS.forEach((b, i) =>
      this.sample(`${name}_bucket`, { ...labels, le: String(b / 1000) }, h.buckets[i] ?? 0),
    );
    this.sample(`${name}_bucket`, { ...labels, le: "+Inf" }, h.count);
    this.sample(`${name}_sum`, labels, h.sum_ms / 1000);
    this.sample(`${name}_count`, labels, h.count);
  }
  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}
