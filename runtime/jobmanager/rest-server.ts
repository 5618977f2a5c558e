/**
 * The JobManager's REST API over HTTP (fastify), documented for users in README ("REST API"):
 *
 *   const rest = await startRestServer(jobManager, { host: "0.0.0.0", port: 8081, logger });
 *   // ... rest.url ...
 *   await rest.close();
 *
 * Thin by design: validation and the HTTP mapping live here; every decision is the JobManagerApi's.
 * Every non-2xx response has an `ErrorResponse` body naming the field, job or route at fault.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { WeirError, type WeirErrorCode } from "../common/errors.js";
import type { Logger } from "../common/logging.js";
import type {
  CheckpointingOverview,
  ClusterOverview,
  ErrorResponse,
  JobDetail,
  JobSummary,
  SavepointInfo,
  SavepointDisposalRequest,
  StopJobRequest,
  SubmitJobRequest,
  SubmitJobResponse,
  TaskManagerInfo,
  TriggerResponse,
  TriggerSavepointRequest,
} from "./rest-types.js";

/** Outcome of starting a savepoint: its trigger id, or why there is no job to take it. */
export type TriggerOutcome = TriggerResponse | "not-found" | "terminal";

/** What the REST server needs from the JobManager. Synchronous reads must be cheap (in-memory state). */
export interface JobManagerApi {
  overview(): ClusterOverview;
  taskManagers(): TaskManagerInfo[];
  listJobs(): JobSummary[];
  jobDetail(id: string): JobDetail | undefined;
  /** Rejects with a WeirError for a job that cannot be submitted (answered with 400 and its code). */
  submitJob(req: SubmitJobRequest): Promise<SubmitJobResponse>;
  /** "canceling" when cancellation started (or was already under way). */
  cancelJob(id: string): "canceling" | "not-found" | "terminal";
  /** Checkpoint statistics; undefined for an unknown job. */
  checkpoints(id: string): CheckpointingOverview | undefined;
  /**
   * Start a savepoint (it runs after a checkpoint in progress). Throws a WeirError (answered with 400
   * and its code) for a bad request, e.g. WEIR_E_CONFIG when there is no target directory.
   */
  triggerSavepoint(id: string, req: TriggerSavepointRequest): TriggerOutcome;
  /** Status of a savepoint or stop-with-savepoint; undefined for an unknown job or trigger id. */
  savepointStatus(id: string, triggerId: string): SavepointInfo | undefined;
  /** Stop-with-savepoint: the job finishes once the savepoint completes. Throws like `triggerSavepoint`. */
  stopJob(id: string, req: StopJobRequest): TriggerOutcome;
  /** Delete a savepoint; rejects with a WeirError (400) when the path is not a readable savepoint. */
  disposeSavepoint(path: string): Promise<void>;
}

/** Options of `startRestServer`. */
export interface RestServerOptions {
  host: string;
  /** 0 picks a free port; the bound one is in the returned `url`. */
  port: number;
  /** Serves `GET /metrics` (the JobManager's own Prometheus output) when given. */
  metricsHandler?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Receives fastify's warnings and errors; fastify logs nothing when absent. */
  logger?: Logger;
}

/** A running REST server. */
export interface RestServer {
  /** Base URL with the port actually bound, e.g. `http://127.0.0.1:8081` (no trailing slash). */
  url: string;
  close(): Promise<void>;
}

/** Error codes of the REST layer that are not a WeirError raised by the JobManager. */
export const REST_ERROR_CODES = {
  badRequest: "WEIR_E_BAD_REQUEST",
  notFound: "WEIR_E_NOT_FOUND" satisfies WeirErrorCode,
  terminal: "WEIR_E_JOB_TERMINAL",
  internal: "WEIR_E_INTERNAL",
} as const;

/** JSON schema of `POST /jobs` bodies (`SubmitJobRequest`); unknown fields are rejected. */
export const SUBMIT_JOB_SCHEMA = {
  type: "object",
  required: ["module"],
  additionalProperties: false,
  properties: {
    module: { type: "string", minLength: 1 },
    args: { type: "array", items: { type: "string" } },
    parallelism: { type: "integer", minimum: 1, maximum: 32768 },
    name: { type: "string" },
    savepointPath: { type: "string", minLength: 1 },
    latestCheckpointDir: { type: "string", minLength: 1 },
    jobId: { type: "string", pattern: "^[0-9a-f]{32}$" },
    allowNonRestoredState: { type: "boolean" },
  },
} as const;

const CANCEL_QUERY_SCHEMA = {
  type: "object",
  properties: { mode: { type: "string", enum: ["cancel"], default: "cancel" } },
} as const;

const ID_PARAMS_SCHEMA = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1 } },
} as const;

const TRIGGER_PARAMS_SCHEMA = {
  type: "object",
  required: ["id", "triggerId"],
  properties: { id: { type: "string", minLength: 1 }, triggerId: { type: "string", minLength: 1 } },
} as const;

/** JSON schema of `POST /jobs/:id/savepoints` bodies (`TriggerSavepointRequest`); the body may be absent. */
export const SAVEPOINT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: { targetDirectory: { type: "string", minLength: 1 } },
} as const;

/** JSON schema of `POST /savepoint-disposal` bodies (`SavepointDisposalRequest`). */
export const SAVEPOINT_DISPOSAL_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["savepointPath"],
  properties: { savepointPath: { type: "string", minLength: 1 } },
} as const;

/** JSON schema of `POST /jobs/:id/stop` bodies (`StopJobRequest`); the body may be absent. */
export const STOP_JOB_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: { targetDirectory: { type: "string", minLength: 1 }, drain: { type: "boolean" } },
} as const;

type IdParams = { Params: { id: string } };

/** Start the REST server; resolves once it listens, rejects naming the address when it cannot. */
export async function startRestServer(api: JobManagerApi, opts: RestServerOptions): Promise<RestServer> {
  const app = createApp(opts.logger);
  registerRoutes(app, api, opts);
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await app.close();
    throw new Error(`cannot serve the REST API on ${opts.host}:${opts.port}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const { port } = app.server.address() as AddressInfo;
  return { url: httpBase(opts.host, port), close: () => app.close() };
}

function createApp(logger: Logger | undefined): FastifyInstance {
  const loggerInstance: FastifyBaseLogger | undefined = logger?.child({ component: "rest" }, { level: "warn" });
  const app = Fastify({
    loggerInstance, // none: fastify logs nothing; at warn, its per-request info lines are dropped
    forceCloseConnections: true,
    // Strict bodies: no type coercion, and unknown fields are errors rather than silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  app.setErrorHandler((err: FastifyError, req, reply) => sendError(app, err, req, reply));
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody(`no route ${req.method} ${req.url}`, REST_ERROR_CODES.notFound));
  });
  return app;
}

function registerRoutes(app: FastifyInstance, api: JobManagerApi, opts: RestServerOptions): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/overview", async () => api.overview());
  app.get("/taskmanagers", async () => api.taskManagers());
  app.get("/jobs", async () => ({ jobs: api.listJobs() }));
  app.post<{ Body: SubmitJobRequest }>("/jobs", { schema: { body: SUBMIT_JOB_SCHEMA } }, async (req) =>
    api.submitJob(req.body),
  );
  app.get<IdParams>("/jobs/:id", { schema: { params: ID_PARAMS_SCHEMA } }, async (req, reply) => {
    const detail = api.jobDetail(req.params.id);
    return detail ?? reply.code(404).send(jobNotFound(req.params.id));
  });
  const cancel = async (req: { params: { id: string } }, reply: FastifyReply) => cancelJob(api, req.params.id, reply);
  app.post<IdParams>("/jobs/:id/cancel", { schema: { params: ID_PARAMS_SCHEMA } }, cancel);
  const patchSchema = { params: ID_PARAMS_SCHEMA, querystring: CANCEL_QUERY_SCHEMA };
  app.patch<IdParams>("/jobs/:id", { schema: patchSchema }, cancel); // Flink: PATCH /jobs/:jobid?mode=cancel
  registerCheckpointRoutes(app, api);
  if (opts.metricsHandler) registerMetrics(app, opts.metricsHandler);
}

/** Checkpoint statistics, savepoints and stop-with-savepoint (Flink's routes, camelCase bodies). */
function registerCheckpointRoutes(app: FastifyInstance, api: JobManagerApi): void {
  app.get<IdParams>("/jobs/:id/checkpoints", { schema: { params: ID_PARAMS_SCHEMA } }, async (req, reply) => {
    const overview = api.checkpoints(req.params.id);
    return overview ?? reply.code(404).send(jobNotFound(req.params.id));
  });
  const savepointRoute = { schema: { params: ID_PARAMS_SCHEMA, body: SAVEPOINT_SCHEMA }, preValidation: emptyBodyAsObject };
  app.post<IdParams & { Body: TriggerSavepointRequest }>("/jobs/:id/savepoints", savepointRoute, async (req, reply) => {
    const outcome = api.triggerSavepoint(req.params.id, req.body);
    return sendTrigger(api, req.params.id, "take a savepoint", outcome, reply);
  });
  const stopRoute = { schema: { params: ID_PARAMS_SCHEMA, body: STOP_JOB_SCHEMA }, preValidation: emptyBodyAsObject };
  app.post<IdParams & { Body: StopJobRequest }>("/jobs/:id/stop", stopRoute, async (req, reply) => {
    const outcome = api.stopJob(req.params.id, req.body);
    return sendTrigger(api, req.params.id, "be stopped", outcome, reply);
  });
  type StatusRoute = { Params: { id: string; triggerId: string } };
  const statusSchema = { params: TRIGGER_PARAMS_SCHEMA };
  app.post<{ Body: SavepointDisposalRequest }>("/savepoint-disposal", { schema: { body: SAVEPOINT_DISPOSAL_SCHEMA } }, async (req) => {
    await api.disposeSavepoint(req.body.savepointPath);
    return {};
  });
  app.get<StatusRoute>("/jobs/:id/savepoints/:triggerId", { schema: statusSchema }, async (req, reply) => {
    const { id, triggerId } = req.params;
    const info = api.savepointStatus(id, triggerId);
    if (info) return info;
    if (!api.jobDetail(id)) return reply.code(404).send(jobNotFound(id));
    const message = `job "${id}" has no savepoint with trigger id "${triggerId}"`;
    return reply.code(404).send(errorBody(message, REST_ERROR_CODES.notFound));
  });
}

/** A POST without a body (`curl -X POST .../savepoints`) means "all defaults", as in Flink. */
async function emptyBodyAsObject(req: FastifyRequest): Promise<void> {
  req.body ??= {};
}

/** 202 with the trigger id, 404 for an unknown job, 409 when the job already ended. */
function sendTrigger(api: JobManagerApi, id: string, action: string, outcome: TriggerOutcome, reply: FastifyReply) {
  if (outcome === "not-found") return reply.code(404).send(jobNotFound(id));
  if (outcome === "terminal") return reply.code(409).send(alreadyEnded(api, id, action));
  return reply.code(202).send(outcome);
}

function registerMetrics(app: FastifyInstance, handler: NonNullable<RestServerOptions["metricsHandler"]>): void {
  app.get("/metrics", (req, reply) => {
    reply.hijack();
    handler(req.raw, reply.raw);
  });
}

/** 202 when cancellation started, 404 for an unknown job, 409 when the job already ended. */
function cancelJob(api: JobManagerApi, id: string, reply: FastifyReply): FastifyReply {
  const outcome = api.cancelJob(id);
  if (outcome === "canceling") return reply.code(202).send({});
  if (outcome === "not-found") return reply.code(404).send(jobNotFound(id));
  return reply.code(409).send(alreadyEnded(api, id, "be canceled"));
}

/** E.g. `job "abc" cannot be canceled: it is already FINISHED` (action "be canceled"). */
function alreadyEnded(api: JobManagerApi, id: string, action: string): ErrorResponse {
  const state = api.jobDetail(id)?.state ?? "in a terminal state";
  return errorBody(`job "${id}" cannot ${action}: it is already ${state}`, REST_ERROR_CODES.terminal);
}

function jobNotFound(id: string): ErrorResponse {
  return errorBody(`job "${id}" not found`, REST_ERROR_CODES.notFound);
}

function errorBody(error: string, code?: string): ErrorResponse {
  return code === undefined ? { error } : { error, code };
}

/** Map a thrown error to an ErrorResponse: validation and WeirErrors are 400, client errors keep their status. */
function sendError(app: FastifyInstance, err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err.validation) {
    return reply.code(400).send(errorBody(describeValidation(err, req), REST_ERROR_CODES.badRequest));
  }
  if (err instanceof WeirError) return reply.code(400).send(errorBody(err.message, err.code));
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply.code(status).send(errorBody(err.message, REST_ERROR_CODES.badRequest));
  }
  app.log.error({ err }, "REST request failed");
  return reply.code(500).send(errorBody(`internal error: ${err.message}`, REST_ERROR_CODES.internal));
}

type ValidationIssue = NonNullable<FastifyError["validation"]>[number];

/** E.g. `invalid request body: field "parallelism" must be <= 32768 (got 40000)`. */
function describeValidation(err: FastifyError, req: FastifyRequest): string {
  const part = err.validationContext ?? "body";
  const issue = err.validation?.[0];
  if (!issue) return `invalid request ${part}: ${err.message}`;
  const input = part === "querystring" ? req.query : part === "params" ? req.params : req.body;
  const noun = part === "querystring" ? "query parameter" : "field";
  return `invalid request ${part}: ${describeIssue(issue, noun, input)}`;
}

function describeIssue(issue: ValidationIssue, noun: string, input: unknown): string {
  const params = issue.params as Record<string, unknown>;
  if (issue.keyword === "required") return `${noun} "${String(params.missingProperty)}" is required`;
  if (issue.keyword === "additionalProperties") return `unknown ${noun} "${String(params.additionalProperty)}"`;
  const expected = issue.keyword === "enum" ? `must be one of ${JSON.stringify(params.allowedValues)}` : issue.message;
  const got = JSON.stringify(valueAt(input, issue.instancePath)) ?? "undefined";
  const path = fieldPath(issue.instancePath);
  return `${path === "" ? "the value" : `${noun} "${path}"`} ${expected} (got ${truncate(got)})`;
}

/** The value at a JSON pointer such as "/args/1". */
function valueAt(input: unknown, instancePath: string): unknown {
  let cur = input;
  for (const part of instancePath.split("/").slice(1)) {
    cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[part] : undefined;
  }
  return cur;
}

/** "/args/1" -> "args[1]", "/parallelism" -> "parallelism". */
function fieldPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join("");
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** `http://host:port`, with brackets around an IPv6 literal. */
function httpBase(host: string, port: number): string {
  return host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
