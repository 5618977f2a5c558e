import { afterEach, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { JobStateError, RestClient, RestError } from "../../runtime/jobmanager/rest-client.js";
import type { JobDetail, JobState } from "../../runtime/jobmanager/rest-types.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A scripted HTTP server on loopback; returns its base URL. */
async function serve(handler: Handler): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function job(state: JobState, failure: string | null = null): JobDetail {
  return {
    id: "j1",
    name: "wc",
    state,
    startTime: 0,
    endTime: null,
    duration: 0,
    parallelism: 1,
    module: "/jobs/wc.js",
    args: [],
    vertices: [],
    edges: [],
    failure: failure === null ? null : { cause: `${failure}\n    at stack`, taskmanager: "tm-1", task: "Map", time: 0 },
    timestamps: {},
  };
}

/** Serves GET /jobs/j1 with the given states in turn, repeating the last. */
async function serveStates(states: JobState[], failure: string | null = null): Promise<string> {
  let i = 0;
  return serve((_req, res) => json(res, 200, job(states[Math.min(i++, states.length - 1)], failure)));
}

describe("RestClient", () => {
  it("sends JSON and ignores a trailing slash in the base URL", async () => {
    let seen: { method?: string; url?: string; type?: string; body?: string } = {};
    const url = await serve((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += String(c)));
      req.on("end", () => {
        seen = { method: req.method, url: req.url, type: req.headers["content-type"], body };
        json(res, 200, { jobId: "j1" });
      });
    });
    const result = await new RestClient(`${url}/`).submitJob({ module: "/jobs/wc.js", parallelism: 2 });
    expect(result).toEqual({ jobId: "j1" });
    expect(seen).toEqual({
      method: "POST",
      url: "/jobs",
      type: "application/json",
      body: '{"module":"/jobs/wc.js","parallelism":2}',
    });
  });

  it("encodes job ids in paths", async () => {
    let path = "";
    const url = await serve((req, res) => {
      path = req.url ?? "";
      json(res, 202, {});
    });
    await new RestClient(url).cancelJob("a/b c");
    expect(path).toBe("/jobs/a%2Fb%20c/cancel");
  });

  it("throws a RestError with the status, URL and the server's message and code", async () => {
    const url = await serve((_req, res) => json(res, 409, { error: "already FINISHED", code: "WEIR_E_JOB_TERMINAL" }));
    const err = (await new RestClient(url).cancelJob("j1").catch((e: unknown) => e)) as RestError;
    expect(err).toBeInstanceOf(RestError);
    expect(err).toMatchObject({ status: 409, method: "POST", code: "WEIR_E_JOB_TERMINAL" });
    expect(err.url).toBe(`${url}/jobs/j1/cancel`);
    expect(err.message).toBe(`POST ${url}/jobs/j1/cancel failed with 409: already FINISHED`);
  });

  it("uses the raw text of a non-JSON error response", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(502);
      res.end("bad gateway");
    });
    const err = (await new RestClient(url).overview().catch((e: unknown) => e)) as RestError;
    expect(err).toMatchObject({ status: 502, code: undefined });
    expect(err.message).toContain("failed with 502: bad gateway");
  });

  it("reports an unreachable server as status 0 naming the URL and the cause", async () => {
    const url = await serve(() => undefined);
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const err = (await new RestClient(url).overview().catch((e: unknown) => e)) as RestError;
    expect(err).toBeInstanceOf(RestError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(new RegExp(`^GET ${url}/overview: .*ECONNREFUSED`));
  });

  it("times out a request that gets no answer", async () => {
    const url = await serve(() => undefined); // never responds
    const err = (await new RestClient(url, { timeoutMs: 100 }).overview().catch((e: unknown) => e)) as RestError;
    expect(err).toBeInstanceOf(RestError);
    expect(err.status).toBe(0);
    expect(err.message).toBe(`GET ${url}/overview: timed out after 100 ms`);
  });
});

describe("RestClient.waitForJobState", () => {
  it("polls until the job reaches one of the states", async () => {
    const url = await serveStates(["CREATED", "CREATED", "RUNNING"]);
    const detail = await new RestClient(url).waitForJobState("j1", ["RUNNING"], { pollMs: 5 });
    expect(detail.state).toBe("RUNNING");
  });

  it("fails at once when the job ends in a state not waited for, with its failure cause", async () => {
    const url = await serveStates(["RUNNING", "FAILED"], "WeirError: keyBy returned undefined");
    const err = (await new RestClient(url)
      .waitForJobState("j1", ["FINISHED"], { pollMs: 5, timeoutMs: 10_000 })
      .catch((e: unknown) => e)) as JobStateError;
    expect(err).toBeInstanceOf(JobStateError);
    expect(err.state).toBe("FAILED");
    expect(err.message).toBe('job "j1" ended FAILED while waiting for FINISHED: WeirError: keyBy returned undefined');
  });

  it("accepts a terminal state when it is one of those waited for", async () => {
    const url = await serveStates(["CANCELLING", "CANCELED"]);
    const detail = await new RestClient(url).waitForJobState("j1", ["CANCELED", "FAILED"], { pollMs: 5 });
    expect(detail.state).toBe("CANCELED");
  });

  it("times out naming the last state seen", async () => {
    const url = await serveStates(["CREATED"]);
    const err = (await new RestClient(url)
      .waitForJobState("j1", ["RUNNING"], { pollMs: 10, timeoutMs: 60 })
      .catch((e: unknown) => e)) as JobStateError;
    expect(err).toBeInstanceOf(JobStateError);
    expect(err.message).toBe('job "j1" is still CREATED after 60 ms; waited for RUNNING');
  });
});
