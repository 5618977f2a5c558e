/**
 * Weir's Kubernetes API types: the StreamJob resource's TypeScript types and CRD schema from one TypeBox
 * source. crds/ is rendered by crd-files.ts (`npm run crds`; build-time only: it needs the dev dependency `yaml`).
 *
 * ```ts
 * import { API_VERSION, KIND, type StreamJob, streamJobCrd } from "../api/index.js";
 * const job: StreamJob = { apiVersion: API_VERSION, kind: KIND, metadata: { name: "wc" }, spec: { job: { module: "wordcount.js" } } };
 * ```
 */
export {
  API_VERSION, GROUP, VERSION, KIND, PLURAL, SINGULAR, SHORT_NAMES,
  LIFECYCLE_STATES, JOB_STATES, UPGRADE_MODES, STATE_BACKENDS, PULL_POLICIES,
  StreamJobSchema, StreamJobSpecSchema, StreamJobStatusSchema, JobSpecSchema, ConditionSchema,
  type StreamJob, type StreamJobSpec, type StreamJobStatus, type JobSpec, type CheckpointingSpec, type SavepointsSpec,
  type Resources, type SnapshotInfo, type Condition, type LifecycleState, type JobState, type UpgradeMode, type StateBackend,
} from "./stream-job.js";
export { STREAM_JOB_CRD_NAME, streamJobCrd } from "./stream-job-crd.js";
export { DURATION_PATTERN, parseDuration } from "./duration.js";
export { cel, type CelRule } from "./schema.js";
