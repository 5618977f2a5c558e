/**
 * A typed client of the JobManager REST API, used by the `weir` CLI and tests:
 *
 *   const client = new RestClient("http://127.0.0.1:8081");
 *   const { jobId } = await client.submitJob({ module: "/jobs/wordcount.js", parallelism: 4 });
 *   await client.waitForJobState(jobId, ["RUNNING"], { timeoutMs: 30_000 });
 *
 * Every failure is a `RestError` naming the method and URL: non-2xx responses carry the status and
 * the server's `ErrorResponse` message and code; an unreachable server or a timeout has status 0.
 */
import {
  TERMINAL_JOB_STATES,
  type CheckpointingOverview,
  type ClusterOverview,
  type ErrorResponse,
  type JobDetail,
  type JobState,
  type JobSummary,
  type SavepointInfo,
  type StopJobRequest,
  type SubmitJobRequest,
  type SubmitJobResponse,
  type TaskManagerInfo,
  type TriggerResponse,
} from "./rest-types.js";

/** A failed REST call. `status` is the HTTP status, or 0 when no response arrived. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly url: string,
    message: string,
    /** The server's error code (`ErrorResponse.code`), when it sent one. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RestError";
  }
}

/** A job that did not reach an awaited state: it ended in another one, or the wait timed out. */
export class JobStateError extends Error {
  constructor(
    readonly jobId: string,
    /** The last state seen. */
    readonly state: JobState,
    message: string,
  ) {
    super(message);
    this.name = "JobStateError";
  }
}

/** A savepoint that failed, or was not done when the wait timed out (`status` IN_PROGRESS). */
export class SavepointError extends Error {
  constructor(
    readonly jobId: string,
    readonly triggerId: string,
    readonly status: SavepointInfo["status"],
    message: string,
  ) {
    super(message);
    this.name = "SavepointError";
  }
}

/** Options of `RestClient`. */
export interface RestClientOptions {
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

/** Options of `waitForJobState`. */
export interface WaitOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Poll interval (default 200 ms). */
  pollMs?: number;
}

/** A client of one JobManager's REST API. */
export class RestClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  /** @param baseUrl e.g. `http://127.0.0.1:8081` (a trailing slash is ignored) */
  constructor(baseUrl: string, opts: RestClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** GET /overview */
  overview(): Promise<ClusterOverview> {
    return this.request("GET", "/overview");
  }

  /** GET /taskmanagers */
  taskManagers(): Promise<TaskManagerInfo[]> {
    return this.request("GET", "/taskmanagers");
  }

  /** GET /jobs */
  async listJobs(): Promise<JobSummary[]> {
    const body = await this.request<{ jobs: JobSummary[] }>("GET", "/jobs");
    return body.jobs;
  }

  /** POST /jobs; a RestError with status 400 names the invalid field or the submission error. */
  submitJob(req: SubmitJobRequest): Promise<SubmitJobResponse> {
    return this.request("POST", "/jobs", req);
  }

  /** GET /jobs/:id; a RestError with status 404 for an unknown job. */
  jobDetail(id: string): Promise<JobDetail> {
    return this.request("GET", `/jobs/${encodeURIComponent(id)}`);
  }

  /** POST /jobs/:id/cancel; resolves once cancellation started (404 unknown, 409 already ended). */
  async cancelJob(id: string): Promise<void> {
    await this.request("POST", `/jobs/${encodeURIComponent(id)}/cancel`);
  }

  /** POST /savepoint-disposal: delete a savepoint; a RestError with status 400 when it is not one. */
  async disposeSavepoint(savepointPath: string): Promise<void> {
    await this.request("POST", "/savepoint-disposal", { savepointPath });
  }

  /** GET /jobs/:id/checkpoints; a RestError with status 404 for an unknown job. */
  checkpoints(id: string): Promise<CheckpointingOverview> {
    return this.request("GET", `/jobs/${encodeURIComponent(id)}/checkpoints`);
  }

  /**
   * POST /jobs/:id/savepoints: start a savepoint under `targetDirectory` (default: the JobManager's
   * `state.savepoints.dir`; 400 WEIR_E_CONFIG when neither is set). Poll with `waitForSavepoint`.
   */
  triggerSavepoint(id: string, targetDirectory?: string): Promise<TriggerResponse> {
    const body = targetDirectory === undefined ? {} : { targetDirectory };
    return this.request("POST", `/jobs/${encodeURIComponent(id)}/savepoints`, body);
  }

  /** GET /jobs/:id/savepoints/:triggerId (also for stop-with-savepoint); 404 for an unknown job or trigger. */
  savepointStatus(id: string, triggerId: string): Promise<SavepointInfo> {
    return this.request("GET", `/jobs/${encodeURIComponent(id)}/savepoints/${encodeURIComponent(triggerId)}`);
  }

  /** POST /jobs/:id/stop: stop-with-savepoint; the job finishes once the savepoint completes. */
  stopWithSavepoint(id: string, opts: { dir?: string; drain?: boolean } = {}): Promise<TriggerResponse> {
    const body: StopJobRequest = {};
    if (opts.dir !== undefined) body.targetDirectory = opts.dir;
    if (opts.drain !== undefined) body.drain = opts.drain;
    return this.request("POST", `/jobs/${encodeURIComponent(id)}/stop`, body);
  }

  /**
   * Poll a savepoint's status until it is done and return its location. Throws a SavepointError when
   * it fails (with the reason) or is still in progress after `timeoutMs`.
   */
  async waitForSavepoint(id: string, triggerId: string, timeoutMs = 600_000, pollMs = 200): Promise<string> {
    const info = await poll(() => this.savepointStatus(id, triggerId), (i) => i.status !== "IN_PROGRESS", {
      timeoutMs,
      pollMs,
    });
    if (info.status === "COMPLETED") return info.location ?? "";
    const message =
      info.status === "FAILED"
        ? `savepoint ${triggerId} of job "${id}" failed: ${info.failure ?? "(no reason given)"}`
        : `savepoint ${triggerId} of job "${id}" is still in progress after ${timeoutMs} ms`;
    throw new SavepointError(id, triggerId, info.status, message);
  }

  /**
   * Poll `GET /jobs/:id` until the job is in one of `states` and return its detail. Throws a
   * JobStateError when the job ends in a terminal state not awaited (with its failure cause) or when
   * `timeoutMs` passes (naming the last state seen).
   */
  async waitForJobState(id: string, states: readonly JobState[], opts: WaitOptions = {}): Promise<JobDetail> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const done = (d: JobDetail) => states.includes(d.state) || TERMINAL_JOB_STATES.has(d.state);
    const detail = await poll(() => this.jobDetail(id), done, { timeoutMs, pollMs: opts.pollMs ?? 200 });
    if (states.includes(detail.state)) return detail;
    if (TERMINAL_JOB_STATES.has(detail.state)) throw endedError(id, states, detail);
    const message = `job "${id}" is still ${detail.state} after ${timeoutMs} ms; waited for ${states.join(" or ")}`;
    throw new JobStateError(id, detail.state, message);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const { status, text } = await this.exchange(method, url, body);
    if (status < 200 || status > 299) throw httpError(method, url, status, text);
    try {
      return (text === "" ? {} : JSON.parse(text)) as T;
    } catch (err) {
      throw new RestError(status, method, url, `${method} ${url}: invalid JSON in response`, undefined, {
        cause: err,
      });
    }
  }

  /** Send a request and read the whole response body within the timeout. */
  private async exchange(method: string, url: string, body: unknown): Promise<{ status: number; text: string }> {
    const init: RequestInit = { method, signal: AbortSignal.timeout(this.timeoutMs) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    try {
      const response = await fetch(url, init);
      return { status: response.status, text: await response.text() };
    } catch (err) {
      throw new RestError(0, method, url, `${method} ${url}: ${networkReason(err, this.timeoutMs)}`, undefined, {
        cause: err,
      });
    }
  }
}

function endedError(id: string, states: readonly JobState[], detail: JobDetail): JobStateError {
  const cause = detail.failure ? `: ${detail.failure.cause.split("\n")[0]}` : "";
  const message = `job "${id}" ended ${detail.state} while waiting for ${states.join(" or ")}${cause}`;
  return new JobStateError(id, detail.state, message);
}

/** A RestError from a non-2xx response, with the server's ErrorResponse message when it sent one. */
function httpError(method: string, url: string, status: number, text: string): RestError {
  const body = parseErrorBody(text);
  const reason = body?.error ?? (text.trim() || "(empty response)");
  return new RestError(status, method, url, `${method} ${url} failed with ${status}: ${reason}`, body?.code);
}

function parseErrorBody(text: string): ErrorResponse | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    const error = (parsed as { error?: unknown } | null)?.error;
    return typeof error === "string" ? (parsed as ErrorResponse) : undefined;
  } catch {
    return undefined;
  }
}

/** "timed out after 10000 ms", or the underlying cause of a fetch failure ("connect ECONNREFUSED ..."). */
function networkReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return `timed out after ${timeoutMs} ms`;
  }
  const cause = err instanceof Error ? (err.cause as { message?: string } | undefined) : undefined;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** Read until `done` holds or `timeoutMs` passes; returns the last value read either way. */
async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, o: Required<WaitOptions>): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(Math.min(o.pollMs, Math.max(0, deadline - Date.now())));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
