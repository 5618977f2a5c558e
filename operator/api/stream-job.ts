/**
 * The StreamJob resource (`weir.dev/v1alpha1`): its TypeScript types and its OpenAPI v3 schema, both
 * from the TypeBox declarations below, so the CRD in crds/ and the operator can never disagree.
 * Fields with a default are optional in the types (a manifest may omit them) and always present on
 * objects read from the apiserver, which applies the schema's defaults.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { V1ObjectMeta } from "@kubernetes/client-node";
import { cel, duration, freeObject, quantity, storageLocation, stringEnum, stringMap } from "./schema.js";

/** API group of every Weir resource. */
export const GROUP = "weir.dev";
/** The served and stored version. */
export const VERSION = "v1alpha1";
/** `apiVersion` of a StreamJob. */
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "StreamJob";
export const PLURAL = "streamjobs";
export const SINGULAR = "streamjob";
export const SHORT_NAMES = ["sj"] as const;

export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const JOB_STATES = ["running", "suspended"] as const;
export const UPGRADE_MODES = ["stateless", "savepoint", "last-state"] as const;
export const STATE_BACKENDS = ["heap", "rocksdb"] as const;

/** The operator's view of a StreamJob, in `.status.lifecycleState`. */
export const LIFECYCLE_STATES = [
  "CREATED", "DEPLOYED", "STABLE", "UPGRADING", "SUSPENDED", "ROLLING_BACK", "ROLLED_BACK", "FAILED", "DELETING",
] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];
export type UpgradeMode = (typeof UPGRADE_MODES)[number];
export type JobState = (typeof JOB_STATES)[number];
export type StateBackend = (typeof STATE_BACKENDS)[number];

const ResourceList = Type.Object({
  cpu: Type.Optional(quantity({ description: "CPU, e.g. 500m or 2." })),
  memory: Type.Optional(quantity({ description: "Memory, e.g. 512Mi or 2Gi." })),
});
/** requests/limits of cpu and memory, as in a container's `resources`. */
export const ResourcesSchema = Type.Object({
  requests: Type.Optional(ResourceList),
  limits: Type.Optional(ResourceList),
}, { description: "Container resources (requests and limits of cpu and memory)." });
export type Resources = Static<typeof ResourcesSchema>;

const podTemplate = () => freeObject({
  description: "A core/v1 PodTemplateSpec (metadata, spec) merged into the generated pods; the main container is named \"weir\".",
});

/** `spec.job`: what runs and how it is upgraded. */
export const JobSpecSchema = Type.Object({
  module: Type.String({ description: "Path of the job module inside the image (its default export builds the dataflow).", minLength: 1, maxLength: 1024 }),
  args: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { description: "Arguments passed to the job module.", maxItems: 256 })),
  parallelism: Type.Optional(Type.Integer({ description: "Parallelism of every vertex.", minimum: 1, maximum: 32768, default: 1 })),
  maxParallelism: Type.Optional(Type.Integer({
    description: "Key groups: the upper bound of parallelism; changing it makes existing keyed state unrestorable.",
    minimum: 1, maximum: 32768, default: 128,
  })),
  state: Type.Optional(stringEnum(JOB_STATES, { description: "Desired state: running, or suspended (stopped per upgradeMode).", default: "running" })),
  upgradeMode: Type.Optional(stringEnum(UPGRADE_MODES, {
    description: "How state survives upgrades and suspend: stateless (none), savepoint (stop-with-savepoint), last-state (latest checkpoint).",
    default: "stateless",
  })),
  initialSavepointPath: Type.Optional(storageLocation("spec.job.initialSavepointPath", { description: "Savepoint the first deployment restores from." })),
  allowNonRestoredState: Type.Optional(Type.Boolean({ description: "Restore even if a savepoint holds state of an operator the job no longer has.", default: false })),
  savepointTriggerNonce: Type.Optional(Type.Integer({ description: "Change to take a savepoint now.", format: "int64" })),
}, {
  description: "The job: module, parallelism, desired state and upgrade mode.",
  ...cel({
    rule: "self.parallelism <= self.maxParallelism",
    // a messageExpression with the two values is over the apiserver's CEL cost budget (string(int) is unbounded)
    message: "spec.job.parallelism must not exceed spec.job.maxParallelism",
    fieldPath: ".parallelism",
    reason: "FieldValueInvalid",
  }),
});

export const JobManagerSpecSchema = Type.Object({
  resources: Type.Optional(ResourcesSchema),
  podTemplate: Type.Optional(podTemplate()),
}, { description: "The JobManager pod." });

export const TaskManagerSpecSchema = Type.Object({
  slots: Type.Optional(Type.Integer({ description: "Task slots per TaskManager; replicas = ceil(parallelism / slots).", minimum: 1, maximum: 1024, default: 1 })),
  resources: Type.Optional(ResourcesSchema),
  podTemplate: Type.Optional(podTemplate()),
}, { description: "The TaskManager pods." });

export const CheckpointingSpecSchema = Type.Object({
  interval: duration({ description: "Time between checkpoints, e.g. 10s." }),
  timeout: Type.Optional(duration({ description: "A checkpoint not complete after this long is aborted.", default: "10m" })),
  storage: storageLocation("spec.checkpointing.storage", { description: "Checkpoint storage: file:///dir, /dir or s3://bucket/prefix." }),
  retained: Type.Optional(Type.Integer({ description: "Completed checkpoints kept.", minimum: 1, maximum: 100, default: 1 })),
}, { description: "Periodic checkpoints (required for upgradeMode last-state)." });

export const SavepointsSpecSchema = Type.Object({
  directory: Type.Optional(storageLocation("spec.savepoints.directory", { description: "Where savepoints go: file:///dir, /dir or s3://bucket/prefix." })),
  periodicInterval: Type.Optional(duration({ description: "Take a savepoint this often while the job runs (off when unset)." })),
  historyMaxCount: Type.Optional(Type.Integer({ description: "Savepoints remembered in status.", minimum: 1, maximum: 1000, default: 10 })),
  historyMaxAge: Type.Optional(duration({ description: "Savepoints older than this are dropped from the status history.", default: "24h" })),
  onDeletion: Type.Optional(Type.Boolean({ description: "Deleting the StreamJob stops the job with a final savepoint (else it is cancelled).", default: false })),
}, { description: "Savepoints (directory required for upgradeMode savepoint)." });

export const RollbackSpecSchema = Type.Object({
  enabled: Type.Optional(Type.Boolean({ default: false })),
  stableTimeout: Type.Optional(duration({ description: "An upgrade not stable after this long is rolled back.", default: "5m" })),
}, { description: "Roll back to the last stable spec when an upgrade does not become stable." });

/** `spec` of a StreamJob. */
export const StreamJobSpecSchema = Type.Object({
  image: Type.Optional(Type.String({ description: "Container image holding Weir and the job module.", maxLength: 1024 })),
  imagePullPolicy: Type.Optional(stringEnum(PULL_POLICIES, { default: "IfNotPresent" })),
  serviceAccountName: Type.Optional(Type.String({ description: "Service account of the JobManager and TaskManager pods.", maxLength: 253 })),
  restartNonce: Type.Optional(Type.Integer({ description: "Change to restart the job (state kept per upgradeMode).", format: "int64" })),
  job: JobSpecSchema,
  jobManager: Type.Optional(JobManagerSpecSchema),
  taskManager: Type.Optional(TaskManagerSpecSchema),
  checkpointing: Type.Optional(CheckpointingSpecSchema),
  stateBackend: Type.Optional(stringEnum(STATE_BACKENDS, { description: "Keyed state backend.", default: "heap" })),
  savepoints: Type.Optional(SavepointsSpecSchema),
  config: Type.Optional(stringMap(Type.String({ maxLength: 4096 }), {
    description: "Runtime configuration (keys of runtime/config/options.ts); fields above take precedence.",
    maxProperties: 256,
  })),
  rollback: Type.Optional(RollbackSpecSchema),
}, {
  description: "The desired job.",
  ...cel(
    {
      rule: "self.job.upgradeMode != 'savepoint' || (has(self.savepoints) && has(self.savepoints.directory))",
      message: "spec.savepoints.directory is required when spec.job.upgradeMode is savepoint (upgrades and suspend take a savepoint there)",
      reason: "FieldValueRequired",
    },
    {
      rule: "self.job.upgradeMode != 'last-state' || has(self.checkpointing)",
      message: "spec.checkpointing (with storage) is required when spec.job.upgradeMode is last-state",
      reason: "FieldValueRequired",
    },
  ),
});

const SnapshotInfo = Type.Object({
  location: Type.Optional(Type.String()),
  time: Type.Optional(Type.String({ format: "date-time" })),
  triggerType: Type.Optional(Type.String({ description: "manual, periodic or upgrade." })),
  triggerNonce: Type.Optional(Type.Integer({ format: "int64" })),
}, { "x-kubernetes-preserve-unknown-fields": true });
export type SnapshotInfo = Static<typeof SnapshotInfo>;

/** A standard metav1.Condition. */
export const ConditionSchema = Type.Object({
  type: Type.String({ maxLength: 316 }),
  status: stringEnum(["True", "False", "Unknown"] as const),
  observedGeneration: Type.Optional(Type.Integer({ format: "int64", minimum: 0 })),
  lastTransitionTime: Type.String({ format: "date-time" }),
  reason: Type.String({ maxLength: 1024 }),
  message: Type.String({ maxLength: 32768 }),
});
export type Condition = Static<typeof ConditionSchema>;

/** `status` of a StreamJob, written by the operator only. */
export const StreamJobStatusSchema = Type.Object({
  lifecycleState: Type.Optional(stringEnum(LIFECYCLE_STATES)),
  observedGeneration: Type.Optional(Type.Integer({ format: "int64" })),
  lastReconciledSpec: Type.Optional(Type.String({ description: "The spec last acted on, as JSON." })),
  lastStableSpec: Type.Optional(Type.String({ description: "The last spec that became stable, as JSON (rollback target)." })),
  jobStatus: Type.Optional(Type.Object({
    jobId: Type.Optional(Type.String()),
    state: Type.Optional(Type.String({ description: "The JobManager's job state (RUNNING, FAILED, ...)." })),
    startTime: Type.Optional(Type.String({ format: "date-time" })),
    parallelism: Type.Optional(Type.Integer({ description: "Parallelism the job runs with." })),
    vertices: Type.Optional(stringMap(Type.Integer(), { description: "Parallelism per vertex." })),
  }, { "x-kubernetes-preserve-unknown-fields": true })),
  selector: Type.Optional(Type.String({ description: "Label selector of the TaskManager pods (scale subresource)." })),
  checkpointInfo: Type.Optional(Type.Object({
    lastCheckpoint: Type.Optional(Type.Object({
      id: Type.Optional(Type.Integer({ format: "int64" })),
      location: Type.Optional(Type.String()),
      time: Type.Optional(Type.String({ format: "date-time" })),
    }, { "x-kubernetes-preserve-unknown-fields": true })),
  }, { "x-kubernetes-preserve-unknown-fields": true })),
  savepointInfo: Type.Optional(Type.Object({
    lastSavepoint: Type.Optional(SnapshotInfo),
    history: Type.Optional(Type.Array(SnapshotInfo)),
    pendingDisposal: Type.Optional(Type.Array(Type.String(), { description: "Savepoints out of the history that a deployment may still restore from: disposed of once nothing points at them." })),
  }, { "x-kubernetes-preserve-unknown-fields": true })),
  conditions: Type.Optional(Type.Array(ConditionSchema, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })),
  error: Type.Optional(Type.String({ description: "The last error, naming what to fix." })),
  upgrade: Type.Optional(freeObject({
    description: "The operation in progress (deploy, upgrade, suspend, rollback, savepoint): written before acting, so a restarted operator resumes it.",
  })),
}, { description: "Observed state, written by the operator." });

export const StreamJobSchema = Type.Object({
  apiVersion: Type.String(),
  kind: Type.String(),
  metadata: Type.Unsafe<V1ObjectMeta>({ type: "object" }),
  spec: StreamJobSpecSchema,
  status: Type.Optional(StreamJobStatusSchema),
}, { description: "A Weir stream processing job: the operator runs its JobManager and TaskManagers and upgrades it through savepoints." });

export type JobSpec = Static<typeof JobSpecSchema>;
export type CheckpointingSpec = Static<typeof CheckpointingSpecSchema>;
export type SavepointsSpec = Static<typeof SavepointsSpecSchema>;
export type StreamJobSpec = Static<typeof StreamJobSpecSchema>;
export type StreamJobStatus = Static<typeof StreamJobStatusSchema>;
/** A StreamJob as stored by the apiserver. */
export type StreamJob = Static<typeof StreamJobSchema> & { apiVersion: typeof API_VERSION; kind: typeof KIND };
