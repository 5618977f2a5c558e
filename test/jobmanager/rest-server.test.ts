import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { createLogger } from "../../runtime/common/logging.js";
import { WeirError } from "../../runtime/common/errors.js";
import { RestClient, RestError } from "../../runtime/jobmanager/rest-client.js";
import { startRestServer, type JobManagerApi, type RestServer } from "../../runtime/jobmanager/rest-server.js";
import {
  TERMINAL_JOB_STATES,
  type ClusterOverview,
  type JobDetail,
  type JobState,
  type SubmitJobRequest,
  type TaskManagerInfo,
} from "../../runtime/jobmanager/rest-types.js";

/** An in-memory JobManagerApi: jobs live in a map, submission is immediate. */
class FakeJobManager implements JobManagerApi {
  readonly jobs = new Map<string, JobDetail>();
  readonly submitted: SubmitJobRequest[] = [];
  private nextId = 1;

  overview(): ClusterOverview {
    const count = (s: JobState) => [...this.jobs.values()].filter((j) => j.state === s).length;
    return {
      version: "0.1.0",
      taskmanagers: 1,
      slotsTotal: 4,
      slotsAvailable: 3,
      jobsRunning: count("RUNNING"),
      jobsFinished: count("FINISHED"),
      jobsCanceled: count("CANCELED"),
      jobsFailed: count("FAILED"),
    };
  }

  taskManagers(): TaskManagerInfo[] {
    return [
      {
        id: "tm-1",
        dataAddress: "127.0.0.1:6121",
        metricsUrl: "http://127.0.0.1:9250/metrics",
        pid: 4242,
        slots: 4,
        freeSlots: 3,
        lastHeartbeat: 1_700_000_000_000,
      },
    ];
  }

  listJobs() {
    return [...this.jobs.values()].map(({ id, name, state, startTime, endTime, duration }) => ({
      id,
      name,
      state,
      startTime,
      endTime,
      duration,
    }));
  }

  jobDetail(id: string): JobDetail | undefined {
    return this.jobs.get(id);
  }

  async submitJob(req: SubmitJobRequest) {
    if (req.module.endsWith("missing.js")) {
      throw new WeirError("WEIR_E_MODULE_LOAD", `cannot load job module "${req.module}": file not found`);
    }
    this.submitted.push(req);
    const id = `job-${this.nextId++}`;
    this.jobs.set(id, detail(id, req));
    return { jobId: id };
  }

  cancelJob(id: string): "canceling" | "not-found" | "terminal" {
    const job = this.jobs.get(id);
    if (!job) return "not-found";
    if (TERMINAL_JOB_STATES.has(job.state)) return "terminal";
    this.setState(id, "CANCELLING");
    return "canceling";
  }

  setState(id: string, state: JobState, failure?: string): void {
    const job = this.jobs.get(id)!;
    job.state = state;
    if (failure) job.failure = { cause: failure, taskmanager: "tm-1", task: "Map (1/2)", time: 0 };
  }
}

function detail(id: string, req: SubmitJobRequest): JobDetail {
  return {
    id,
    name: req.name ?? "wordcount",
    state: "RUNNING",
    startTime: 1_700_000_000_000,
    endTime: null,
    duration: 1000,
    parallelism: req.parallelism ?? 1,
    module: req.module,
    args: req.args ?? [],
    vertices: [],
    edges: [],
    failure: null,
    timestamps: { RUNNING: 1_700_000_000_000 },
  };
}

let api: FakeJobManager;
let server: RestServer;
let client: RestClient;

beforeAll(async () => {
  api = new FakeJobManager();
  server = await startRestServer(api, {
    host: "127.0.0.1",
    port: 0,
    metricsHandler: (_req, res) => {
      res.setHeader("content-type", "text/plain");
      res.end("weir_jobmanager_up 1\n");
    },
  });
  client = new RestClient(server.url);
});

afterAll(async () => {
  await server.close();
});

/** The RestError a promise rejects with. */
async function restError(promise: Promise<unknown>): Promise<RestError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RestError);
  return err as RestError;
}

async function raw(method: string, path: string, body?: unknown, contentType = "application/json") {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers = { "content-type": contentType };
  }
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("REST server, read routes", () => {
  it("reports the bound port in its url", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);
  });

  it("GET /healthz", async () => {
    expect(await raw("GET", "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
  });

  it("GET /overview", async () => {
    expect(await client.overview()).toMatchObject({ version: "0.1.0", taskmanagers: 1, slotsTotal: 4 });
  });

  it("GET /taskmanagers", async () => {
    const tms = await client.taskManagers();
    expect(tms).toEqual(api.taskManagers());
  });

  it("GET /jobs wraps the summaries in { jobs }", async () => {
    const { jobId } = await client.submitJob({ module: "/jobs/list.js" });
    const res = await raw("GET", "/jobs");
    expect(res.status).toBe(200);
    expect(res.body.jobs).toEqual(api.listJobs());
    expect((await client.listJobs()).map((j) => j.id)).toContain(jobId);
  });

  it("GET /jobs/:id returns the detail", async () => {
    const { jobId } = await client.submitJob({ module: "/jobs/detail.js", args: ["--rate", "10"], parallelism: 3 });
    const detail = await client.jobDetail(jobId);
    expect(detail).toMatchObject({ id: jobId, state: "RUNNING", parallelism: 3, args: ["--rate", "10"] });
  });

  it("GET /jobs/:id is 404 naming the unknown id", async () => {
    const err = await restError(client.jobDetail("nope"));
    expect(err.status).toBe(404);
    expect(err.code).toBe("WEIR_E_NOT_FOUND");
    expect(err.message).toContain('job "nope" not found');
    expect(err.message).toContain(`${server.url}/jobs/nope`);
  });

  it("an unknown route is 404 with an ErrorResponse", async () => {
    expect(await raw("GET", "/nowhere")).toEqual({
      status: 404,
      body: { error: "no route GET /nowhere", code: "WEIR_E_NOT_FOUND" },
    });
  });

  it("GET /metrics serves the metrics handler's output", async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("weir_jobmanager_up 1\n");
  });
});

describe("REST server, POST /jobs", () => {
  it("submits a valid request and passes it on unchanged", async () => {
    const req = { module: "/jobs/wordcount.js", args: ["a", "b"], parallelism: 8, name: "wc" };
    const { jobId } = await client.submitJob(req);
    expect(jobId).toMatch(/^job-\d+$/);
    expect(api.submitted.at(-1)).toEqual(req);
  });

  it.each([
    [{}, 'field "module" is required'],
    [{ module: "" }, 'field "module" must NOT have fewer than 1 characters'],
    [{ module: 42 }, 'field "module" must be string (got 42)'],
    [{ module: "m.js", args: "x" }, 'field "args" must be array (got "x")'],
    [{ module: "m.js", args: ["ok", 3] }, 'field "args[1]" must be string (got 3)'],
    [{ module: "m.js", parallelism: 0 }, 'field "parallelism" must be >= 1 (got 0)'],
    [{ module: "m.js", parallelism: 40000 }, 'field "parallelism" must be <= 32768 (got 40000)'],
    [{ module: "m.js", parallelism: 1.5 }, 'field "parallelism" must be integer (got 1.5)'],
    [{ module: "m.js", parallelism: "4" }, 'field "parallelism" must be integer (got "4")'],
    [{ module: "m.js", name: ["x"] }, 'field "name" must be string'],
    [{ module: "m.js", paralelism: 4 }, 'unknown field "paralelism"'],
  ])("rejects %j with 400 naming the field", async (body, message) => {
    const err = await restError(client.submitJob(body as never));
    expect(err.status).toBe(400);
    expect(err.code).toBe("WEIR_E_BAD_REQUEST");
    expect(err.message).toContain(message);
  });

  it("rejects a body that is not a JSON object", async () => {
    const res = await raw("POST", "/jobs", [1, 2]);
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("must be object");
  });

  it("rejects malformed JSON with 400", async () => {
    const res = await raw("POST", "/jobs", "{ not json");
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "WEIR_E_BAD_REQUEST" });
    expect(String(res.body.error)).toMatch(/JSON/i);
  });

  it("rejects a non-JSON content type with 415", async () => {
    const res = await raw("POST", "/jobs", "module=x", "application/x-www-form-urlencoded");
    expect(res.status).toBe(415);
    expect(typeof res.body.error).toBe("string");
  });

  it("answers a WeirError from the JobManager with 400 and its code", async () => {
    const err = await restError(client.submitJob({ module: "/jobs/missing.js" }));
    expect(err.status).toBe(400);
    expect(err.code).toBe("WEIR_E_MODULE_LOAD");
    expect(err.message).toContain('cannot load job module "/jobs/missing.js"');
  });
});

describe("REST server, cancel", () => {
  it("POST /jobs/:id/cancel is 202 and starts cancellation", async () => {
    const { jobId } = await client.submitJob({ module: "/jobs/a.js" });
    const res = await raw("POST", `/jobs/${jobId}/cancel`);
    expect(res).toEqual({ status: 202, body: {} });
    expect(api.jobDetail(jobId)?.state).toBe("CANCELLING");
  });

  it("PATCH /jobs/:id?mode=cancel is 202 (Flink-compatible)", async () => {
    const { jobId } = await client.submitJob({ module: "/jobs/b.js" });
    expect((await raw("PATCH", `/jobs/${jobId}?mode=cancel`)).status).toBe(202);
    expect(api.jobDetail(jobId)?.state).toBe("CANCELLING");
  });

  it("PATCH /jobs/:id without mode cancels, like Flink", async () => {
    const { jobId } = await client.submitJob({ module: "/jobs/c.js" });
    expect((await raw("PATCH", `/jobs/${jobId}`)).status).toBe(202);
  });

  it("PATCH with another mode is 400 naming the query parameter", async () => {
    const { jobId } = await client.submitJob({ module: "/jobs/d.js" });
    const res = await raw("PATCH", `/jobs/${jobId}?mode=stop`);
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('query parameter "mode" must be one of ["cancel"] (got "stop")');
    expect(api.jobDetail(jobId)?.state).toBe("RUNNING");
  });

  it("cancel of an unknown job is 404 on both routes", async () => {
    const err = await restError(client.cancelJob("ghost"));
    expect(err.status).toBe(404);
    expect(err.message).toContain('job "ghost" not found');
    expect((await raw("PATCH", "/jobs/ghost?mode=cancel")).status).toBe(404);
  });

  it("cancel of a job that already ended is 409 naming its state", async () => {
    const { jobId } = await client.submitJob({ module: "/jobs/e.js" });
    api.setState(jobId, "FINISHED");
    const err = await restError(client.cancelJob(jobId));
    expect(err.status).toBe(409);
    expect(err.code).toBe("WEIR_E_JOB_TERMINAL");
    expect(err.message).toContain(`job "${jobId}" cannot be canceled: it is already FINISHED`);
    expect((await raw("PATCH", `/jobs/${jobId}?mode=cancel`)).status).toBe(409);
  });
});

describe("REST server options", () => {
  it("has no /metrics route without a metricsHandler", async () => {
    const other = await startRestServer(new FakeJobManager(), { host: "127.0.0.1", port: 0 });
    try {
      expect((await fetch(`${other.url}/metrics`)).status).toBe(404);
    } finally {
      await other.close();
    }
  });

  it("answers an unexpected error with 500 and logs it through the given logger at error", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const broken = new FakeJobManager();
    broken.overview = () => {
      throw new Error("state lock poisoned");
    };
    const logger = createLogger("jobmanager", { destination: sink, level: "info" });
    const other = await startRestServer(broken, { host: "127.0.0.1", port: 0, logger });
    try {
      const err = await restError(new RestClient(other.url).overview());
      expect(err.status).toBe(500);
      expect(err.message).toContain("internal error: state lock poisoned");
      await new RestClient(other.url).taskManagers(); // a good request logs nothing
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: "error", component: "rest", msg: "REST request failed" });
    } finally {
      await other.close();
    }
  });

  it("rejects naming the address when the port is taken", async () => {
    const port = Number(new URL(server.url).port);
    await expect(startRestServer(new FakeJobManager(), { host: "127.0.0.1", port })).rejects.toThrow(
      `cannot serve the REST API on 127.0.0.1:${port}`,
    );
  });
});
