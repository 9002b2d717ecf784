#!/usr/bin/env node
// Reads vitest's JSON report and prints the plain closing line CI reads: "N passed, N failed".
// Plain JavaScript so it runs on any Node >= 18. Exit 1 when anything failed or nothing ran.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "reports/vitest.json";
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  console.log(`no vitest report at ${file}: ${err.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const suite of report.testResults ?? []) {
  for (const t of suite.assertionResults ?? []) {
    if (t.status === "passed") passed++;
    else if (t.status === "failed") {
      failed++;
      failures.push(`${suite.name}: ${t.fullName}`);
    } else skipped++;
  }
  // A file that failed to load has no assertion results but a failed status.
  if ((suite.assertionResults ?? []).length === 0 && suite.status === "failed") {
    failed++;
    failures.push(`${suite.name}: ${suite.message ?? "file failed to load"}`);
  }
}
for (const f of failures) console.log(`FAILED ${f}`);
if (skipped > 0) console.log(`skipped: ${skipped} (each skip prints its reason in the test output)`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
