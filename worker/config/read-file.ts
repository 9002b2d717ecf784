/**
 * Node-only file reading for `config check`: reads at most CONFIG_FILE_LIMIT + 1 bytes, so a huge
 * file or a device such as /dev/urandom is refused quickly instead of read forever, and hands the
 * raw bytes to the pure checker (config-check.ts) which judges size, NUL bytes and UTF-8.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { CONFIG_FILE_LIMIT, checkConfigFiles, type ConfigCheckResult } from "../config-check.ts";

/** A file's first `limit` bytes (or all of it when shorter), or null when it cannot be read. */
export function readFileBounded(path: string, limit: number): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    if (fstatSync(fd).isDirectory()) return null;
    const buf = new Uint8Array(limit);
    let n = 0;
    while (n < limit) {
      const got = readSync(fd, buf, n, limit - n, null);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * `fillwatch config check --wrangler P --dev-vars Q`: reads both files (bounded) and checks them.
 * `notes` are informational lines for stderr.
 *
 * @example
 * const { ok, problems, notes } = runConfigCheck("wrangler.toml", ".dev.vars");
 */
export function runConfigCheck(wranglerPath: string, devVarsPath: string): ConfigCheckResult & { notes: string[] } {
  const notes: string[] = [];
  const toml = readFileBounded(wranglerPath, CONFIG_FILE_LIMIT + 1);
  if (toml === null)
    return {
      ok: false,
      notes,
      problems: [
        {
          severity: "error",
          setting: "wrangler.toml",
          message: `cannot read ${wranglerPath}`,
          fix: "pass --wrangler PATH",
        },
      ],
    };
  const vars = readFileBounded(devVarsPath, CONFIG_FILE_LIMIT + 1);
  if (vars === null) notes.push(`note: ${devVarsPath} not found; secrets are checked as missing`);
  return { ...checkConfigFiles(toml, vars), notes };
}
