/** The one way to turn a caught value into text: `err.message` for an Error, the value otherwise. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
