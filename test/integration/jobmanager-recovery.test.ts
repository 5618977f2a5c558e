/**
 * JobManager crashes: an application-mode JobManager (`weir jobmanager --job ... --job-id ...`) runs the
 * keyed exactly-once job on 2 TaskManager processes, checkpointing every second, and is SIGKILLed after
 * checkpoints completed. Restarted with the same arguments (what Kubernetes does to a crashed
 * container) it resumes the job from its own latest checkpoint; started under a new job id with
 * `--from-latest-checkpoint <the old job's checkpoint directory>` (the operator's upgrade when the old
 * JobManager is dead) it continues from there. Either way the TaskManagers cancel their tasks,
 * register again without being restarted, and the committed output equals the brute-force result
 * exactly. Also: a TaskManager gives up (exit 1) when its JobManager stays away longer than
 * `taskmanager.registration.timeout`; `--from-latest-checkpoint` with nothing to restore exits 1
 * naming the directory.
 */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startProcess, terminate, type ClusterProcess } from "../../runtime/cli/embedded-cluster.js";
import { RestClient } from "../../runtime/jobmanager/rest-client.js";
import { freePort } from "../cluster/cluster.js";
import { prng, REPO, runWeir, tempDir, waitFor } from "../support/cluster.js";
import { expectExactOutput } from "../support/exactly-once.js";

const EVENTS = 1_200_000;
const KEYS = 100;
/** Paced so that the job is still running when its JobManager is killed and restarted. */
const RATE = 200_000;
const JOB = join(REPO, "test/jobs/exactly-once.ts");
const OLD_JOB_ID = "0123456789abcdef0123456789abcdef";
const NEW_JOB_ID = "fedcba9876543210fedcba9876543210";

/** A JobManager at fixed ports with 2 TaskManagers, as pods run them; `restart` starts another JobManager at the same address. */
async function startDeployment(jobArgs: string[], config: string[]) {
  const [rpcPort, restPort] = [await freePort(), await freePort()];
  const logDir = tempDir("jm-recovery-logs");
  const opts = { logDir, stdout: process.stderr };
  const cfg = config.flatMap((c) => ["--config", c]);
  const procs: ClusterProcess[] = [];
  const start = async (name: string, args: string[]) => {
    const { proc, ready } = startProcess(name, args, opts);
    procs.push(proc);
    await ready;
    return proc;
  };
  const jobManager = (args: string[]) =>
    start("jobmanager", ["jobmanager", "--host", "127.0.0.1", "--rpc-port", String(rpcPort), "--rest-port", String(restPort), ...cfg, ...args]);
  const first = await jobManager(jobArgs);
  const taskmanagers = await Promise.all(
    [0, 1].map((i) => start(`taskmanager-${i}`, ["taskmanager", "--jobmanager", `127.0.0.1:${rpcPort}`, "--host", "127.0.0.1", "--slots", "1", ...cfg])),
  );
  return {
    client: new RestClient(`http://127.0.0.1:${restPort}`),
    first,
    taskmanagers,
    logDir,
    restart: jobManager,
    stop: () => Promise.all(procs.map((p) => terminate(p))),
  };
}

/** Wait until `n` checkpoints completed; the id of the latest. */
async function checkpointsCompleted(client: RestClient, jobId: string, n: number): Promise<number> {
  await waitFor(async () => (await client.checkpoints(jobId)).counts.completed >= n, 30_000, `${n} checkpoints to complete`);
  return (await client.checkpoints(jobId)).latest.completed!.id;
}

/** Whether `<chkRoot>/<jobId>/chk-<id>` exists. */
const checkpointDirExists = (chkRoot: string, jobId: string, id: number) => existsSync(join(chkRoot, jobId, `chk-${id}`));

/**
 * Run the job under OLD_JOB_ID, SIGKILL its JobManager after two checkpoints, start a JobManager with
 * `restartArgs` at the same address, and wait for `jobId` to finish on the same TaskManager processes.
 * `seed` picks when in the checkpoint interval the kill comes; `whileRunning` runs once the new JobManager is up.
 */
async function killAndRestart(
  restartArgs: (chkRoot: string, out: string) => string[],
  jobId: string,
  seed: number,
  whileRunning: (client: RestClient, chkRoot: string) => Promise<void> = async () => {},
) {
  const chkRoot = tempDir("jm-recovery-chk");
  const out = tempDir("jm-recovery-out");
  const jobArgs = ["--job", JOB, "--job-id", OLD_JOB_ID, "-p", "2", "--", String(EVENTS), String(KEYS), out, String(RATE)];
  const d = await startDeployment(jobArgs, [`state.checkpoints.dir=${pathToFileURL(chkRoot).href}`, "execution.checkpointing.interval=1000"]);
  try {
    const killedAfter = await checkpointsCompleted(d.client, OLD_JOB_ID, 2);
    // Somewhere in the next checkpoint interval, possibly while a checkpoint is being taken.
    await new Promise((r) => setTimeout(r, Math.floor(prng(seed)() * 1_000)));
    d.first.child.kill("SIGKILL");
    await d.first.exited;
    await d.restart(restartArgs(chkRoot, out));
    await whileRunning(d.client, chkRoot);
    const detail = await d.client.waitForJobState(jobId, ["FINISHED", "FAILED", "CANCELED"], { timeoutMs: 60_000 });
    expect(detail.state, `job ended ${detail.state}: ${detail.failure?.cause}; logs in ${d.logDir}`).toBe("FINISHED");
    // The TaskManagers survived the JobManager and registered with its successor.
    expect(d.taskmanagers.map((t) => t.child.exitCode ?? t.child.signalCode)).toEqual([null, null]);
    expect((await d.client.taskManagers()).map((t) => t.pid).sort()).toEqual(d.taskmanagers.map((t) => t.child.pid).sort());
    expectExactOutput(out, EVENTS, KEYS);
    return { detail, killedAfter, chkRoot, checkpoints: await d.client.checkpoints(jobId) };
  } finally {
    await d.stop();
  }
}

describe("a JobManager killed with SIGKILL", () => {
  it("restarted with the same arguments resumes its job exactly-once from its latest checkpoint", async () => {
    // The job owns the checkpoints it recovered: the next completed checkpoint subsumes (deletes) them (num-retained 1).
    const subsumesRecovered = async (client: RestClient, chkRoot: string) => {
      const { restoredFrom } = await client.jobDetail(OLD_JOB_ID);
      await waitFor(async () => {
        const latest = (await client.checkpoints(OLD_JOB_ID)).latest.completed?.id;
        return latest !== undefined && checkpointDirExists(chkRoot, OLD_JOB_ID, latest) && !checkpointDirExists(chkRoot, OLD_JOB_ID, restoredFrom!.checkpointId);
      }, 30_000, "a new checkpoint to subsume the recovered one");
    };
    const r = await killAndRestart(
      (_chk, out) => ["--job", JOB, "--job-id", OLD_JOB_ID, "-p", "2", "--", String(EVENTS), String(KEYS), out, String(RATE)],
      OLD_JOB_ID,
      1,
      subsumesRecovered,
    );
    const restored = r.detail.restoredFrom!;
    expect(restored.path).toContain(`/${OLD_JOB_ID}/chk-${restored.checkpointId}/_metadata`);
    expect(restored.checkpointId).toBeGreaterThanOrEqual(r.killedAfter);
    expect(r.checkpoints.latest.restored?.id).toBe(restored.checkpointId);
    // New checkpoints continue above the restored one: no chk-N directory is written twice.
    expect(r.checkpoints.history.every((c) => c.id > restored.checkpointId)).toBe(true);
  }, 90_000);

  it("replaced under a new job id with --from-latest-checkpoint continues from the old job's latest checkpoint, ahead of --from-savepoint", async () => {
    const r = await killAndRestart(
      (chk, out) => [
        "--job", JOB, "--job-id", NEW_JOB_ID, "-p", "2",
        "--from-latest-checkpoint", join(chk, OLD_JOB_ID),
        "--from-savepoint", join(chk, "no-such-savepoint"),
        "--", String(EVENTS), String(KEYS), out, String(RATE),
      ],
      NEW_JOB_ID,
      2,
    );
    const restored = r.detail.restoredFrom!;
    expect(restored.path).toContain(`/${OLD_JOB_ID}/chk-`);
    expect(restored.checkpointId).toBeGreaterThanOrEqual(r.killedAfter);
    // Not the new job's to delete: the old checkpoint is still there after the new job finished.
    expect(existsSync(fileURLToPath(restored.path))).toBe(true);
  }, 90_000);
});

describe("a TaskManager whose JobManager does not come back", () => {
  it("exits with status 1 after taskmanager.registration.timeout", async () => {
    const d = await startDeployment([], ["taskmanager.registration.timeout=1500"]);
    try {
      d.first.child.kill("SIGKILL");
      const started = Date.now();
      expect(await Promise.all(d.taskmanagers.map((t) => t.exited))).toEqual([1, 1]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    } finally {
      await d.stop();
    }
  }, 30_000);
});

describe("weir jobmanager --from-latest-checkpoint", () => {
  it("exits 1 naming the directory when it holds no completed checkpoint and there is no savepoint", async () => {
    const empty = tempDir("no-checkpoints");
    const r = await runWeir(
      ["jobmanager", "--host", "127.0.0.1", "--rpc-port", "0", "--rest-port", "0", "--job", JOB, "--from-latest-checkpoint", empty, "--", "10", "2", tempDir("never")],
      { timeoutMs: 30_000 },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no completed checkpoint in ${empty}`);
    expect(r.stderr).toContain("WEIR_E_NOT_FOUND");
  }, 40_000);
});
