#!/usr/bin/env python3
"""Regenerates worker/lighter/crypto/poseidon2-constants.ts from shared/lighter/vectors/poseidon2-constants.json."""
import json, os, sys
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "lighter", "vectors", "poseidon2-constants.json")
c = json.load(open(src))
out = ["/** Poseidon2 constants for Goldilocks, width 12 (plonky2 variant used by Lighter). Generated from shared/lighter/vectors/poseidon2-constants.json by scripts/gen-poseidon2-constants.py. */", ""]
out.append("export const EXTERNAL_ROUND_CONSTANTS: readonly (readonly bigint[])[] = [")
out += ["  [" + ", ".join(f"{int(x)}n" for x in row) + "]," for row in c["external_round_constants"]]
out.append("];\n")
out.append("export const INTERNAL_ROUND_CONSTANTS: readonly bigint[] = [" + ", ".join(f"{int(x)}n" for x in c["internal_round_constants"]) + "];\n")
out.append("export const INTERNAL_DIAGONAL: readonly bigint[] = [" + ", ".join(f"{int(x)}n" for x in c["internal_matrix_diagonal"]) + "];")
open(os.path.join(root, "worker", "lighter", "crypto", "poseidon2-constants.ts"), "w").write("\n".join(out) + "\n")
