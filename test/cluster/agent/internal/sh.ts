/** Running host commands (ip, nsenter, mount) with errors that name the command. */
import { execFile } from "node:child_process";

/** Runs a command and resolves with its stdout; rejects with the command line and its stderr. */
export function run(cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

/** Like `run`, but an error whose message matches `ignore` counts as success. */
export async function runIgnoring(cmd: string, args: readonly string[], ignore: RegExp): Promise<void> {
  try {
    await run(cmd, args);
  } catch (err) {
    if (!ignore.test((err as Error).message)) throw err;
  }
}

/** Quotes a string for /bin/sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
