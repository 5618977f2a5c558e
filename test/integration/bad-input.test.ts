/**
 * Bad input fails with a message naming the problem: CLI usage errors exit 2 with usage; job modules
 * without a default export, job functions that throw, undefined keys and throwing user functions fail
 * the run (exit 1) with a cause that names the module or operator.
 */
import { describe, expect, it } from "vitest";
import { runWeir } from "../support/cluster.js";

describe("weir CLI usage errors exit 2", () => {
  it.each([
    [["run", "examples/wordcount.ts", "--bogus-flag"], /unknown option '--bogus-flag'/],
    [["run"], /missing required argument 'module'/],
    [["run", "examples/wordcount.ts", "--parallelism", "0"], /--parallelism must be a positive integer/],
    [["run", "examples/wordcount.ts", "--parallelism", "many"], /--parallelism must be a positive integer/],
    [["run", "examples/does-not-exist.ts"], /job module .*does-not-exist\.ts does not exist/],
    [["run", "examples/wordcount.ts", "--config", "network.batch-sise=10"], /unknown configuration key "network\.batch-sise"/],
    [["taskmanager"], /required option '--jobmanager <host:port>' not specified/],
    [["jobmanager", "--job", "examples/wordcount.ts", "--job-id", "xyz"], /--job-id must be 32 lowercase hex digits/],
    [["jobmanager", "--host", "127.0.0.1", "--parallelism", "2"], /need --job <module>/],
    [["jobmanager", "--host", "127.0.0.1", "--from-latest-checkpoint", "/tmp/chk/0123"], /--from-latest-checkpoint.* need --job <module>/],
    [["run", "examples/wordcount.ts", "--from-latest-checkpoint"], /option '--from-latest-checkpoint <dir>' argument missing/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ])("weir %j", async (args, message) => {
    const r = await runWeir(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/Usage: weir|weir --help/);
  });
});

describe("jobs that cannot run fail with a cause naming the problem", () => {
  it("a module without a default export", async () => {
    const r = await runWeir(["run", "test/jobs/no-default-export.ts"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-default-export\.ts has no default export function/);
  });

  it("a job function that throws", async () => {
    const r = await runWeir(["run", "test/jobs/throwing-job.ts"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the job function of .*throwing-job\.ts threw: the topic list is empty/);
  });

  it("a key selector returning undefined", async () => {
    const r = await runWeir(["run", "test/jobs/undefined-key.ts", "-p", "2"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAILED/);
    expect(r.stderr).toMatch(/WEIR_E_KEY_UNDEFINED/);
    expect(r.stderr).toMatch(/"Sum per group" returned undefined/);
  });

  it("a user function that throws", async () => {
    const r = await runWeir(["run", "test/jobs/failing-map.ts"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed in operator "Parse"/);
    expect(r.stderr).toMatch(/cannot parse record 77777/);
  });
});
