/** Weir's version, reported by the REST API and `weir --version`. */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

function readVersion(): string {
  for (const p of ["../../package.json", "../../../package.json"]) {
    try {
      return (require(p) as { version: string }).version;
    } catch {
      // Compiled code sits one level deeper (dist/); try the next candidate.
    }
  }
  return "0.0.0";
}

export const VERSION = readVersion();
