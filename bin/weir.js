#!/usr/bin/env node
// Entry point of the `weir` command: the compiled CLI lives in dist/ (`npm run build`).
import { main } from "../dist/runtime/cli/main.js";

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 1; },
);
