/**
 * A metered SqlStorage: every INSERT, UPDATE and DELETE statement is counted (each writes one row
 * here), so the event log folds the count into `storage.write_statements` for the benchmark.
 */

/** Wraps SqlStorage to count write statements (each writes one row here), for the benchmark. */
export function meter(sql: SqlStorage, writes: { count: number }): SqlStorage {
  const exec = sql.exec.bind(sql);
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === "exec") {
        return (query: string, ...bindings: unknown[]) => {
          if (/^\s*(INSERT|UPDATE|DELETE)/i.test(query)) writes.count++;
          return exec(query, ...(bindings as []));
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
