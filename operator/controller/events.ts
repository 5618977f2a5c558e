/**
 * Kubernetes Events about StreamJobs (`kubectl describe sj` / `kubectl get events`): one per lifecycle
 * transition and per notable action. Recording is best effort: a failed Event write is logged, never
 * fails a reconcile.
 */
import type { CoreV1Api } from "@kubernetes/client-node";
import type { Logger } from "../../runtime/common/logging.js";
import type { StreamJob } from "../api/index.js";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  record(job: StreamJob, type: EventType, reason: string, message: string): Promise<void>;
}

export const REPORTING_COMPONENT = "weir-operator";

export function eventRecorder(core: CoreV1Api, identity: string, log: Logger): EventRecorder {
  let seq = 0;
  return {
    async record(job, type, reason, message) {
      const now = new Date();
      const namespace = job.metadata.namespace!;
      try {
        await core.createNamespacedEvent({
          namespace,
          body: {
            metadata: { name: `${job.metadata.name}.${now.getTime().toString(16)}${(seq++ % 4096).toString(16)}`, namespace },
            involvedObject: {
              apiVersion: job.apiVersion, kind: job.kind, name: job.metadata.name!, namespace, uid: job.metadata.uid!,
              ...(job.metadata.resourceVersion ? { resourceVersion: job.metadata.resourceVersion } : {}),
            },
            type,
            reason,
            // the apiserver caps messages at 1 KiB
            message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
            source: { component: REPORTING_COMPONENT },
            reportingComponent: REPORTING_COMPONENT,
            reportingInstance: identity,
          },
        });
      } catch (err) {
        log.warn({ err, namespace, name: job.metadata.name, reason }, "could not record event");
      }
    },
  };
}
