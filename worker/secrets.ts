/**
 * Secrets by name. The generated `Env` (worker-configuration.d.ts) types only the bindings and
 * plain vars; secrets (API_TOKEN, private keys, alert URLs and tokens) are read through this one
 * function, so nothing else indexes the environment with a computed name.
 */

export type SecretReader = (name: string) => string | null;

/** A reader over the Worker's environment: a non-empty string binding, or null. */
export function secretReader(env: object): SecretReader {
  return (name) => {
    const v = (env as Record<string, unknown>)[name];
    return typeof v === "string" && v !== "" ? v : null;
  };
}
