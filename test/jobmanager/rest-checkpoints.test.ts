import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { WeirError } from "../../runtime/common/errors.js";
import { main } from "../../runtime/cli/main.js";
import { RestClient, RestError, SavepointError } from "../../runtime/jobmanager/rest-client.js";
import { startRestServer, type JobManagerApi, type RestServer, type TriggerOutcome } from "../../runtime/jobmanager/rest-server.js";
import {
  TERMINAL_JOB_STATES,
  type CheckpointingOverview,
  type CheckpointStats,
  type JobDetail,
  type JobState,
  type SavepointInfo,
  type StopJobRequest,
  type TriggerSavepointRequest,
} from "../../runtime/jobmanager/rest-types.js";

const STATS: CheckpointStats = {
  id: 12,
  kind: "checkpoint",
  status: "COMPLETED",
  triggerTimestamp: Date.UTC(2025, 0, 2, 3, 4, 5),
  latestAckTimestamp: Date.UTC(2025, 0, 2, 3, 4, 6),
  endToEndDuration: 1250,
  stateSize: 3 * 1024 * 1024,
  alignmentMs: 17,
  syncMs: 2,
  asyncMs: 9,
  acknowledged: 4,
  finished: 0,
  total: 4,
  externalPath: "file:///cp/j/chk-12",
};

const OVERVIEW: CheckpointingOverview = {
  counts: { completed: 12, failed: 1, inProgress: 0, restored: 0, total: 13 },
  latest: { completed: STATS, savepoint: null, failed: null, restored: null },
  history: [STATS, { ...STATS, id: 11, status: "FAILED", endToEndDuration: 600, stateSize: 0, failure: "expired", externalPath: undefined }],
};

/**
 * A JobManagerApi whose jobs have scripted savepoints: a trigger completes after `pollsUntilDone`
 * status reads, at `<dir>/savepoint-1`, unless the directory contains "broken".
 */
class FakeCheckpointingJobManager implements JobManagerApi {
  readonly states = new Map<string, JobState>([
    ["running", "RUNNING"],
    ["done", "FINISHED"],
  ]);
  readonly requests: { kind: "savepoint" | "stop"; id: string; body: TriggerSavepointRequest | StopJobRequest }[] = [];
  pollsUntilDone = 1;
  private readonly triggers = new Map<string, { dir: string; polls: number }>();

  overview() {
    return { version: "0.1.0", taskmanagers: 0, slotsTotal: 0, slotsAvailable: 0, jobsRunning: 1, jobsFinished: 1, jobsCanceled: 0, jobsFailed: 0 };
  }
  taskManagers() {
    return [];
  }
  listJobs() {
    return [];
  }
  jobDetail(id: string): JobDetail | undefined {
    const state = this.states.get(id);
    if (!state) return undefined;
    return {
      id,
      name: "wc",
      state,
      startTime: 0,
      endTime: null,
      duration: 0,
      parallelism: 1,
      module: "m.js",
      args: [],
      vertices: [],
      edges: [],
      failure: null,
      timestamps: {},
    };
  }
  async submitJob(): Promise<never> {
    throw new Error("not used");
  }
  cancelJob(): "not-found" {
    return "not-found";
  }
  checkpoints(id: string): CheckpointingOverview | undefined {
    return this.states.has(id) ? OVERVIEW : undefined;
  }
  triggerSavepoint(id: string, req: TriggerSavepointRequest): TriggerOutcome {
    return this.trigger("savepoint", id, req);
  }
  stopJob(id: string, req: StopJobRequest): TriggerOutcome {
    return this.trigger("stop", id, req);
  }
  savepointStatus(id: string, triggerId: string): SavepointInfo | undefined {
    const t = this.states.has(id) ? this.triggers.get(triggerId) : undefined;
    if (!t) return undefined;
    if (t.polls++ < this.pollsUntilDone) return { status: "IN_PROGRESS" };
    if (t.dir.includes("broken")) return { status: "FAILED", failure: "Savepoint 3 declined by task Map (1/2): closing" };
    return { status: "COMPLETED", location: `${t.dir}/savepoint-1` };
  }

  readonly disposed: string[] = [];
  async disposeSavepoint(path: string): Promise<void> {
    if (path.includes("chk-")) throw new WeirError("WEIR_E_NOT_A_SAVEPOINT", `${path} holds a checkpoint, not a savepoint: not disposed`);
    this.disposed.push(path);
  }

  private trigger(kind: "savepoint" | "stop", id: string, body: TriggerSavepointRequest): TriggerOutcome {
    const state = this.states.get(id);
    if (!state) return "not-found";
    if (TERMINAL_JOB_STATES.has(state)) return "terminal";
    const dir = body.targetDirectory ?? "file:///default-savepoints";
    if (dir === "file:///nowhere") throw new WeirError("WEIR_E_CONFIG", "no savepoint target directory");
    this.requests.push({ kind, id, body });
    const triggerId = `t${this.requests.length}`;
    this.triggers.set(triggerId, { dir, polls: 0 });
    return { triggerId };
  }
}

let api: FakeCheckpointingJobManager;
let server: RestServer;
let client: RestClient;

beforeAll(async () => {
  api = new FakeCheckpointingJobManager();
  server = await startRestServer(api, { host: "127.0.0.1", port: 0 });
  client = new RestClient(server.url);
});

afterAll(async () => {
  await server.close();
});

async function rejection<E>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as E;
}

async function raw(method: string, path: string, body?: unknown) {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("REST checkpoints and savepoints", () => {
  it("GET /jobs/:id/checkpoints returns the overview, 404 for an unknown job", async () => {
    expect(await client.checkpoints("running")).toEqual(JSON.parse(JSON.stringify(OVERVIEW)));
    const err = await rejection(client.checkpoints("ghost"), RestError);
    expect([err.status, err.code]).toEqual([404, "WEIR_E_NOT_FOUND"]);
  });

  it("POST /jobs/:id/savepoints is 202 with a trigger id and passes the target directory on", async () => {
    const res = await raw("POST", "/jobs/running/savepoints", { targetDirectory: "s3://b/sp" });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ triggerId: expect.any(String) });
    expect(api.requests.at(-1)).toEqual({ kind: "savepoint", id: "running", body: { targetDirectory: "s3://b/sp" } });
  });

  it("POST /jobs/:id/savepoints accepts no body at all", async () => {
    const res = await fetch(`${server.url}/jobs/running/savepoints`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(api.requests.at(-1)?.body).toEqual({});
  });

  it.each([
    [{ targetDirectory: 3 }, 'field "targetDirectory" must be string (got 3)'],
    [{ targetDirectory: "" }, 'field "targetDirectory" must NOT have fewer than 1 characters'],
    [{ target: "x" }, 'unknown field "target"'],
  ])("POST /jobs/:id/savepoints rejects %j with 400 naming the field", async (body, message) => {
    const res = await raw("POST", "/jobs/running/savepoints", body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "WEIR_E_BAD_REQUEST" });
    expect(res.body.error).toContain(message);
  });

  it("answers a WeirError (no target directory) with 400 and its code", async () => {
    const err = await rejection(client.triggerSavepoint("running", "file:///nowhere"), RestError);
    expect([err.status, err.code]).toEqual([400, "WEIR_E_CONFIG"]);
    expect(err.message).toContain("no savepoint target directory");
  });

  it("is 404 for an unknown job and 409 for a job that ended", async () => {
    const missing = await rejection(client.triggerSavepoint("ghost"), RestError);
    expect(missing.status).toBe(404);
    const ended = await rejection(client.stopWithSavepoint("done"), RestError);
    expect([ended.status, ended.code]).toEqual([409, "WEIR_E_JOB_TERMINAL"]);
    expect(ended.message).toContain('job "done" cannot be stopped: it is already FINISHED');
    const savepoint = await rejection(client.triggerSavepoint("done"), RestError);
    expect(savepoint.message).toContain('job "done" cannot take a savepoint: it is already FINISHED');
  });

  it("POST /jobs/:id/stop passes drain and the directory on; rejects a non-boolean drain", async () => {
    const { triggerId } = await client.stopWithSavepoint("running", { dir: "file:///sp", drain: true });
    expect(triggerId).toBeTruthy();
    expect(api.requests.at(-1)).toEqual({ kind: "stop", id: "running", body: { targetDirectory: "file:///sp", drain: true } });
    const res = await raw("POST", "/jobs/running/stop", { drain: "yes" });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('field "drain" must be boolean (got "yes")');
  });

  it("POST /savepoint-disposal passes the path on; 400 with the code when it is no savepoint or the path is missing", async () => {
    await client.disposeSavepoint("file:///sp/savepoint-1");
    expect(api.disposed).toEqual(["file:///sp/savepoint-1"]);
    const err = await rejection(client.disposeSavepoint("file:///chk/chk-3"), RestError);
    expect([err.status, err.code]).toEqual([400, "WEIR_E_NOT_A_SAVEPOINT"]);
    const res = await raw("POST", "/savepoint-disposal", {});
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("savepointPath");
  });

  it("GET /jobs/:id/savepoints/:triggerId reports progress, 404 naming an unknown trigger or job", async () => {
    const { triggerId } = await client.triggerSavepoint("running", "file:///sp");
    expect(await client.savepointStatus("running", triggerId)).toEqual({ status: "IN_PROGRESS" });
    expect(await client.savepointStatus("running", triggerId)).toEqual({ status: "COMPLETED", location: "file:///sp/savepoint-1" });
    const unknownTrigger = await rejection(client.savepointStatus("running", "t999"), RestError);
    expect(unknownTrigger.status).toBe(404);
    expect(unknownTrigger.message).toContain('job "running" has no savepoint with trigger id "t999"');
    const unknownJob = await rejection(client.savepointStatus("ghost", triggerId), RestError);
    expect(unknownJob.message).toContain('job "ghost" not found');
  });
});

describe("RestClient.waitForSavepoint", () => {
  afterEach(() => {
    api.pollsUntilDone = 1;
  });

  it("polls until the savepoint completes and returns its location", async () => {
    api.pollsUntilDone = 3;
    const { triggerId } = await client.triggerSavepoint("running", "file:///sp");
    expect(await client.waitForSavepoint("running", triggerId, 10_000, 5)).toBe("file:///sp/savepoint-1");
  });

  it("throws a SavepointError with the reason when it fails", async () => {
    const { triggerId } = await client.triggerSavepoint("running", "file:///broken");
    const err = await rejection(client.waitForSavepoint("running", triggerId, 10_000, 5), SavepointError);
    expect(err.status).toBe("FAILED");
    expect(err.message).toBe(`savepoint ${triggerId} of job "running" failed: Savepoint 3 declined by task Map (1/2): closing`);
  });

  it("throws a SavepointError when it is still in progress after the timeout", async () => {
    api.pollsUntilDone = 1_000_000;
    const { triggerId } = await client.triggerSavepoint("running", "file:///sp");
    const err = await rejection(client.waitForSavepoint("running", triggerId, 50, 10), SavepointError);
    expect(err.status).toBe("IN_PROGRESS");
    expect(err.message).toContain("is still in progress after 50 ms");
  });
});

describe("weir savepoint / stop / checkpoints", () => {
  let stdout: string[];
  let stderr: string[];

  async function weir(...argv: string[]): Promise<number> {
    stdout = [];
    stderr = [];
    const out = vi.spyOn(process.stdout, "write").mockImplementation((s) => stdout.push(String(s)) > 0);
    const err = vi.spyOn(process.stderr, "write").mockImplementation((s) => stderr.push(String(s)) > 0);
    try {
      return await main([...argv, "--jobmanager", server.url]);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  it("weir savepoint prints the savepoint's path alone on stdout", async () => {
    expect(await weir("savepoint", "running", "file:///mine")).toBe(0);
    expect(stdout.join("")).toBe("file:///mine/savepoint-1\n");
    expect(stderr.join("")).toContain("triggered savepoint");
    expect(api.requests.at(-1)).toEqual({ kind: "savepoint", id: "running", body: { targetDirectory: "file:///mine" } });
  });

  it("weir savepoint without a directory uses the JobManager's default", async () => {
    expect(await weir("savepoint", "running")).toBe(0);
    expect(api.requests.at(-1)?.body).toEqual({});
    expect(stdout.join("")).toBe("file:///default-savepoints/savepoint-1\n");
  });

  it("weir stop --savepoint-dir --drain stops with a savepoint and prints its path", async () => {
    expect(await weir("stop", "running", "--savepoint-dir", "file:///stop", "--drain")).toBe(0);
    expect(api.requests.at(-1)).toEqual({ kind: "stop", id: "running", body: { targetDirectory: "file:///stop", drain: true } });
    expect(stdout.join("")).toBe("file:///stop/savepoint-1\n");
  });

  it("weir stop without --drain does not drain", async () => {
    expect(await weir("stop", "running")).toBe(0);
    expect(api.requests.at(-1)?.body).toEqual({ drain: false });
  });

  it("exits 1 with the reason when the savepoint fails or the job is unknown", async () => {
    expect(await weir("savepoint", "running", "file:///broken")).toBe(1);
    expect(stderr.join("")).toContain("failed: Savepoint 3 declined by task Map (1/2): closing");
    expect(stdout.join("")).toBe("");
    expect(await weir("stop", "ghost")).toBe(1);
    expect(stderr.join("")).toMatch(/^error: .*job "ghost" not found\n$/);
  });

  it("exits 2 on usage errors", async () => {
    expect(await weir("savepoint")).toBe(2);
    expect(await weir("stop", "running", "--timeout", "soon")).toBe(2);
  });

  it("weir checkpoints prints the counts and a table of the history", async () => {
    expect(await weir("checkpoints", "running")).toBe(0);
    const lines = stdout.join("").trimEnd().split("\n");
    expect(lines[0]).toBe("completed 12, failed 1, in progress 0");
    expect(lines[1]).toMatch(/^ID\s+TYPE\s+STATUS\s+TRIGGERED\s+DURATION\s+SIZE\s+ALIGNMENT\s+SYNC\s+ASYNC$/);
    expect(lines[2]!.split(/\s{2,}/)).toEqual(["12", "checkpoint", "COMPLETED", "2025-01-02T03:04:05.000Z", "1.3s", "3.0 MiB", "17 ms", "2 ms", "9 ms"]);
    expect(lines[3]!.split(/\s{2,}/)).toEqual(["11", "checkpoint", "FAILED", "2025-01-02T03:04:05.000Z", "600 ms", "0 B", "17 ms", "2 ms", "9 ms"]);
  });
});
