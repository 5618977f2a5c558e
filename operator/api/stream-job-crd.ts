/** The StreamJob CustomResourceDefinition, built from the schema in stream-job.ts. */
import { plainSchema } from "./schema.js";
import { GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, StreamJobSchema, VERSION } from "./stream-job.js";

/** `metadata.name` of the StreamJob CRD. */
export const STREAM_JOB_CRD_NAME = `${PLURAL}.${GROUP}`;

/** Columns of `kubectl get streamjobs`: NAME STATE JOB-STATE PARALLELISM LAST-SAVEPOINT AGE. */
const PRINTER_COLUMNS = [
  { name: "State", type: "string", jsonPath: ".status.lifecycleState", description: "Lifecycle state seen by the operator." },
  { name: "Job-State", type: "string", jsonPath: ".status.jobStatus.state", description: "State of the job in the JobManager." },
  { name: "Parallelism", type: "integer", jsonPath: ".spec.job.parallelism", description: "Desired parallelism." },
  { name: "Last-Savepoint", type: "string", jsonPath: ".status.savepointInfo.lastSavepoint.location", description: "Latest savepoint." },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

/**
 * The apiextensions.k8s.io/v1 CRD of StreamJob: namespaced, status subresource, scale subresource on
 * `.spec.job.parallelism` (so `kubectl scale` and an HPA drive parallelism), printer columns. A fresh
 * plain object on every call (no TypeBox symbols, keys in a stable order).
 */
export function streamJobCrd(): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: STREAM_JOB_CRD_NAME, labels: { "app.kubernetes.io/part-of": "weir" } },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { plural: PLURAL, singular: SINGULAR, kind: KIND, listKind: `${KIND}List`, shortNames: [...SHORT_NAMES], categories: ["weir"] },
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: plainSchema({ ...StreamJobSchema, required: ["spec"] }) },
        subresources: {
          status: {},
          scale: {
            specReplicasPath: ".spec.job.parallelism",
            statusReplicasPath: ".status.jobStatus.parallelism",
            labelSelectorPath: ".status.selector",
          },
        },
        additionalPrinterColumns: PRINTER_COLUMNS,
      }],
    },
  };
}
