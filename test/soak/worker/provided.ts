/** What soak (b)'s global setup provides to the soak beside the workers tests' own keys. */
declare module "vitest" {
  export interface ProvidedContext {
    collectorUrl: string;
    soak: { seed: number; checks: number; budgetS: number; lanes: number };
  }
}

export {};
