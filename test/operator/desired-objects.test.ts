import { describe, expect, it } from "vitest";
import type { StreamJob } from "../../operator/api/index.js";
import { DEPLOYMENT_ANNOTATION, deploymentJobId, desiredObjects, runtimeConfig, taskManagerReplicas } from "../../operator/reconcile/desired-objects.js";

function streamJob(spec: Partial<StreamJob["spec"]> = {}, job: Partial<StreamJob["spec"]["job"]> = {}): StreamJob {
  return {
    apiVersion: "weir.dev/v1alpha1",
    kind: "StreamJob",
    metadata: { name: "wordcount", namespace: "jobs", uid: "6F1C2A9E-1B2C-4D5E-8F90-0123456789AB" },
    spec: { ...spec, job: { module: "/opt/weir/examples/wordcount.ts", parallelism: 4, ...job } },
  } as StreamJob;
}

const OPTS = { defaultImage: "weir:dev", startFrom: null, jobId: "6f1c2a9e1b2c4d5e8f900123456789ab" };

describe("desired objects of a StreamJob", () => {
  it("derives a 32-hex job id per deployment and TaskManager replicas from parallelism and slots", () => {
    const id = deploymentJobId(streamJob(), 1_000);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(deploymentJobId(streamJob(), 1_000)).toBe(id);
    expect(deploymentJobId(streamJob(), 1_001)).not.toBe(id);
    expect(taskManagerReplicas(streamJob({ taskManager: { slots: 3 } }))).toBe(2);
    expect(taskManagerReplicas(streamJob())).toBe(4);
  });

  it("maps checkpointing, savepoints, backend and free config to WEIR_CONFIG_* entries", () => {
    const conf = runtimeConfig(
      streamJob({
        stateBackend: "rocksdb",
        checkpointing: { interval: "10s", timeout: "1m", storage: "s3://bucket/chk", retained: 3 },
        savepoints: { directory: "s3://bucket/sp" },
        config: { "restart-strategy.type": "fixed-delay" },
      }),
    );
    expect(conf).toEqual({
      WEIR_CONFIG_RESTART_STRATEGY_TYPE: "fixed-delay",
      WEIR_CONFIG_STATE_BACKEND: "rocksdb",
      WEIR_CONFIG_EXECUTION_CHECKPOINTING_INTERVAL: "10000",
      WEIR_CONFIG_EXECUTION_CHECKPOINTING_TIMEOUT: "60000",
      WEIR_CONFIG_EXECUTION_CHECKPOINTING_NUM_RETAINED: "3",
      WEIR_CONFIG_STATE_CHECKPOINTS_DIR: "s3://bucket/chk",
      WEIR_CONFIG_EXECUTION_CHECKPOINTING_EXTERNALIZED_CHECKPOINT_RETENTION: "RETAIN_ON_CANCELLATION",
      WEIR_CONFIG_STATE_SAVEPOINTS_DIR: "s3://bucket/sp",
    });
  });

  it("runs the JobManager in application mode, owned by the StreamJob, and waits for its IP before the TaskManagers", () => {
    const job = streamJob({}, { args: ["--lines", "10"] });
    const without = desiredObjects(job, {}, { ...OPTS, startFrom: { path: "s3://b/sp-1", allowNonRestoredState: true } });
    expect(without.taskManager).toBeNull();
    const jm = without.jobManager;
    expect(jm.metadata!.ownerReferences![0]).toMatchObject({ kind: "StreamJob", uid: job.metadata.uid, controller: true });
    expect(jm.spec!.strategy!.type).toBe("Recreate");
    const c = jm.spec!.template.spec!.containers[0]!;
    expect(c.image).toBe("weir:dev");
    expect(c.args).toEqual([
      "jobmanager", "--rpc-port", "6123", "--rest-port", "8081", "--job", "/opt/weir/examples/wordcount.ts",
      "--job-id", "6f1c2a9e1b2c4d5e8f900123456789ab", "-p", "4",
      "--from-savepoint", "s3://b/sp-1", "--allow-non-restored-state", "--", "--lines", "10",
    ]);
    expect(c.envFrom).toEqual([{ configMapRef: { name: "wordcount-config" } }]);
    expect(JSON.parse(jm.metadata!.annotations![DEPLOYMENT_ANNOTATION]!)).toEqual({
      spec: job.spec, startFrom: { path: "s3://b/sp-1", allowNonRestoredState: true }, jobId: OPTS.jobId,
    });
    expect(c.env).toContainEqual({ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } });

    const tm = desiredObjects(job, { jobManagerIp: "10.88.0.7" }, OPTS).taskManager!;
    expect(tm.spec!.replicas).toBe(4);
    expect(tm.spec!.template.spec!.containers[0]!.args).toEqual(["taskmanager", "--jobmanager", "10.88.0.7:6123", "--slots", "1", "--metrics-port", "9249"]);
    expect(tm.spec!.selector!.matchLabels).toEqual({ "app.kubernetes.io/name": "weir", "weir.dev/streamjob": "wordcount", "weir.dev/component": "taskmanager" });
  });

  it("restores from the newest checkpoint of a directory, with a savepoint as the fallback", () => {
    const jm = desiredObjects(streamJob(), {}, { ...OPTS, startFrom: { latestCheckpointDir: "s3://b/chk/abc", path: "s3://b/sp-1", allowNonRestoredState: false } }).jobManager;
    const args = jm.spec!.template.spec!.containers[0]!.args!;
    expect(args.slice(args.indexOf("-p") + 2, args.indexOf("--"))).toEqual(["--from-latest-checkpoint", "s3://b/chk/abc", "--from-savepoint", "s3://b/sp-1"]);
  });

  it("merges the user's pod template: their fields and sidecars stay, the generated container wins", () => {
    const job = streamJob({
      taskManager: {
        podTemplate: {
          metadata: { labels: { team: "data" } },
          spec: {
            nodeSelector: { disk: "ssd" },
            containers: [
              { name: "weir", env: [{ name: "EXTRA", value: "1" }], image: "ignored" },
              { name: "sidecar", image: "busybox" },
            ],
          },
        },
      },
    });
    const pod = desiredObjects(job, { jobManagerIp: "10.88.0.7" }, OPTS).taskManager!.spec!.template;
    expect(pod.metadata!.labels).toMatchObject({ team: "data", "weir.dev/component": "taskmanager" });
    expect(pod.spec!.nodeSelector).toEqual({ disk: "ssd" });
    expect(pod.spec!.containers.map((c) => c.name)).toEqual(["weir", "sidecar"]);
    expect(pod.spec!.containers[0]!.image).toBe("weir:dev");
    expect(pod.spec!.containers[0]!.env!.map((e) => e.name)).toEqual(["EXTRA", "POD_IP"]);
  });
});
