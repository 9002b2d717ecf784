/** Loads the reference vectors from ../shared/lighter/vectors (beside the repository). */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const vectorsDir = process.env.FILLWATCH_VECTORS_DIR ?? join(repoRoot, "..", "shared", "lighter", "vectors");

/** Vector files are untyped data; tests narrow what they read. */
// deno-lint-ignore no-explicit-any
export type Json = any;

export function loadVectors(name: "primitives.json" | "signer-vectors.json" | "deterministic.json" | "poseidon2-constants.json"): Json {
  return JSON.parse(readFileSync(join(vectorsDir, name), "utf8")) as Json;
}
