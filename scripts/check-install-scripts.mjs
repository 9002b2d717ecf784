// Fails when an installed dependency has an install script that package.json's `allowScripts` does
// not approve, or when `allowScripts` approves a package that has none (approve exactly what is needed).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const allowed = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).allowScripts ?? {};
const HOOKS = ["preinstall", "install", "postinstall"];

/** Every package directory under a node_modules folder, scoped and nested ones included. */
function* packages(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith("@")) {
      for (const scoped of readdirSync(path, { withFileTypes: true })) {
        if (scoped.isDirectory()) yield* pkg(join(path, scoped.name));
      }
    } else {
      yield* pkg(path);
    }
  }
}

function* pkg(path) {
  const manifest = join(path, "package.json");
  if (existsSync(manifest)) yield { path, json: JSON.parse(readFileSync(manifest, "utf8")) };
  yield* packages(join(path, "node_modules"));
}

const needing = new Map();
for (const { path, json } of packages(join(root, "node_modules"))) {
  const hooks = HOOKS.filter((h) => typeof json.scripts?.[h] === "string");
  if (hooks.length === 0 && existsSync(join(path, "binding.gyp"))) hooks.push("install (node-gyp)");
  if (hooks.length > 0) needing.set(json.name, `${json.name}@${json.version} (${hooks.join(", ")})`);
}

const problems = [];
for (const [name, what] of needing) {
  if (allowed[name] !== true && allowed[name] !== false) problems.push(`unreviewed install script: ${what}`);
}
for (const name of Object.keys(allowed)) {
  if (!needing.has(name)) problems.push(`allowScripts lists ${name}, which has no install script`);
}
for (const p of problems) console.error(p);
if (problems.length > 0) {
  console.error("Review each one, then add or remove it in package.json allowScripts.");
  process.exit(1);
}
console.log(`install scripts: ${needing.size} reviewed (${[...needing.keys()].join(", ")})`);
