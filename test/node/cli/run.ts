/**
 * Runs the built CLI (bin/fillwatch.mjs) on the machine's plain Node (>= 20) for the CLI tests:
 * a rebuild from the current sources, a synchronous runner, and an asynchronous one for tests
 * that serve HTTP from the test process itself (a synchronous child would block that server).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../support/vectors.ts";

export const bin = join(repoRoot, "bin", "fillwatch.mjs");
// The system Node (20 on these machines), not the pinned Node 22 that runs vitest.
export const systemNode = existsSync("/usr/bin/node") ? "/usr/bin/node" : process.execPath;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Always test the CLI as built from the current sources (prepare builds it on install). */
export function buildCli(): void {
  const b = spawnSync(process.execPath, [join(repoRoot, "scripts", "build-cli.mjs")], { encoding: "utf8" });
  if (b.status !== 0) throw new Error(`CLI build failed: ${b.stderr}`);
}

export function run(args: string[], input?: string, env?: Record<string, string>): RunResult {
  const r = spawnSync(systemNode, [bin, ...args], {
    input,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function runAsync(args: string[], env?: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(systemNode, [bin, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin.end();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
