/**
 * What the machine soak needs from a check machine, whichever one it is: ticks in, verdicts and
 * alerts out, a hard restart at any moment, and its own storage figures. An adapter wires one
 * machine to the virtual exchange (world.ts) the way its real interpreter wires it to Lighter.
 */
import type { FaultName } from "../../sim/faults.ts";
import type { SoakWorld } from "./world.ts";

export interface SoakCheckResult {
  id: string;
  tick: string;
  startedAt: number;
  boundAt: number;
  concludedAt: number;
  verdict: string;
  stage: string | null;
  diagnosis: string | null;
  /** Client order indexes this check signed (its test order; a flatten's are separate). */
  cois: string[];
  /** The account's position when the check ended (its flatten included); unset while it runs. */
  positionAtEnd?: string;
}

export interface SoakAlert {
  /** The incident/dedup key the machine gave it. */
  key: string;
  kind: "trigger" | "resolve";
  checkId: string | null;
  at: number;
}

export interface MachineUnderSoak {
  readonly name: string;
  /** The faults this machine can meet (a machine without a session stage cannot see socket faults). */
  readonly covers: readonly FaultName[];
  /** Whether the machine flattens its own fill (position_drift is measured only then). */
  readonly flattens: boolean;
  /** A cron trigger at the world's current time. */
  tick(key: string): void;
  /** A hard crash and a fresh instance from storage; nothing in flight answers. */
  restart(): void;
  /** A check, its flatten or its order lock is still in progress. */
  busy(): boolean;
  /** Every check that concluded, in order (each once). */
  readonly results: SoakCheckResult[];
  readonly alerts: SoakAlert[];
  /** Storage write statements so far. */
  readonly writes: number;
  /** Rows the machine keeps in storage now, and the bound its retention promises. */
  storage(): { rows: number; bound: number; bytes: number };
  /** CPU spent in frame handling (µs), for cpu_us_per_frame. */
  readonly frameCpuUs: number;
  /** The machine answers through promises: the soak lets microtasks run after every world event. */
  readonly async: boolean;
  /** Extra figures for soak.json (write breakdown, step counts…). */
  extra?(): Record<string, unknown>;
}

export type AdapterFactory = (world: SoakWorld, o: { timeScale: number; seed: number }) => MachineUnderSoak;
