/** Loads the reference vectors vendored in test/fixtures/lighter (see its README for their origin). */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const vectorsDir = join(repoRoot, "test", "fixtures", "lighter");

/** Vector files are untyped data; tests narrow what they read. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export function loadVectors(
  name: "primitives.json" | "signer-vectors.json" | "deterministic.json" | "poseidon2-constants.json",
): Json {
  return JSON.parse(readFileSync(join(vectorsDir, name), "utf8")) as Json;
}
