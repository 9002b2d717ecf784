/** Types for the workerd test files: the Worker's bindings and exports. */
import type { Env as WorkerEnv } from "../../worker/env.ts";
import type * as WorkerModule from "../../worker/index.ts";

declare global {
  namespace Cloudflare {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof WorkerModule;
    }
  }
}
