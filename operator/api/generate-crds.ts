/**
 * `npm run crds`: writes crds/*.yaml and charts/weir-operator/crds/*.yaml from operator/api
 * (test/operator/crd.test.ts fails when they are stale).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crdFiles } from "./crd-files.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
for (const f of crdFiles()) {
  const target = join(root, f.path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, f.text);
  console.log(`wrote ${f.path} (${Buffer.byteLength(f.text)} bytes)`);
}
