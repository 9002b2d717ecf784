/**
 * The scenario tests' shared start (machine, drift and residue tables): a model world with the
 * given knobs and starting position behind a fresh test interpreter, the one record a scenario
 * made, and running until the test order went out.
 */
import { expect } from "vitest";
import { Harness } from "./harness.ts";
import { World, type Knobs } from "./world.ts";

export function setup(knobs: Partial<Knobs> = {}, position = 0n): { w: World; h: Harness } {
  const w = new World();
  Object.assign(w.knobs, knobs);
  w.position = position;
  return { w, h: new Harness(w) };
}

/** The only value of `m` (fails when there are none or several). */
export const only = <T>(m: Map<string, T>): T => {
  expect(m.size).toBe(1);
  return [...m.values()][0]!;
};

/** Runs until the test order has gone out (transmitted once). */
export const untilSent = (h: Harness): void => {
  for (let t = h.world.now; t < 5_000 && !(h.state.check?.facts?.transmissions ?? 0); t += 1) h.runUntil(t);
};
