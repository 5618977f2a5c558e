/**
 * The operator end to end on the local Kubernetes: installed with the real helm from charts/weir-operator
 * (2 replicas as pods, Lease leader election), StreamJobs applied with kubectl and the API. Jobs run as
 * JobManager/TaskManager pods (processes of the node agents) writing through the transactional file
 * sink into a host directory, so the committed output can be checked against brute force after every
 * upgrade, suspend, JobManager SIGKILL and operator failover: nothing lost, nothing twice.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RestClient } from "../../runtime/jobmanager/rest-client.js";
import { GROUP, PLURAL, VERSION, type StreamJob, type StreamJobSpec } from "../../operator/api/index.js";
import type { UpgradeStatus } from "../../operator/upgrade/index.js";
import { readJsonLines } from "../support/cluster.js";
import { diffLines, expectedLines } from "../support/exactly-once.js";
import { REPO_ROOT } from "./paths.js";
import { adminConfig, createNamespace, deleteNamespace, describeCluster, ensureStreamJobCrd, eventually, k8s, kubeconfigPath, runBin, statusOf } from "./support.js";

type Job = StreamJob & { status?: UpgradeStatus };

const CHART = join(REPO_ROOT, "charts/weir-operator");
const RELEASE = "weir";
const LEASE = "weir-operator";
const LEASE_DURATION_MS = 15_000;
const RETRY_PERIOD_MS = 2_000;
const KEYS = 40;

describeCluster("the operator, installed with helm", () => {
  const kc = adminConfig();
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  const clusterDir = dirname(kubeconfigPath());
  let opNs = "";
  let ns = "";
  let work = "";

  const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name })) as Job;
  const patchSpec = (name: string, spec: Partial<StreamJobSpec> & { job?: Partial<StreamJobSpec["job"]> }) =>
    custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name, body: { spec } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
  const waitFor = (name: string, what: string, ok: (j: Job) => boolean, timeoutMs = 120_000) =>
    eventually(`${name}: ${what}`, async () => {
      const j = await getJob(name);
      return ok(j) ? j : undefined;
    }, timeoutMs);
  const stable = (parallelism: number) => (j: Job) =>
    j.status?.lifecycleState === "STABLE" && j.status.upgrade === undefined && j.status.jobStatus?.state === "RUNNING" && j.status.jobStatus.parallelism === parallelism;
  const pods = async (selector: string, namespace = ns) => (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  const jobManagerRest = async (name: string) => {
    const [pod] = await pods(`weir.dev/streamjob=${name},weir.dev/component=jobmanager`);
    return new RestClient(`http://${pod!.status!.podIP}:8081`, { timeoutMs: 5_000 });
  };
  const restoredFrom = async (name: string) => {
    const rest = await jobManagerRest(name);
    const [job] = await rest.listJobs();
    return (await rest.jobDetail(job!.id)).restoredFrom?.path.replace(/\/_metadata$/, "");
  };

  /** A seeded, paced keyed job (test/jobs/exactly-once.ts) writing through the transactional file sink. */
  function exactlyOnceJob(name: string, events: number, rate: number, job: Partial<StreamJobSpec["job"]>, savepoints: Partial<StreamJobSpec["savepoints"]> = {}): { manifest: Job; out: string } {
    const dir = join(work, name);
    const out = join(dir, "out");
    mkdirSync(out, { recursive: true });
    const podTemplate = {
      spec: {
        volumes: [{ name: "work", hostPath: { path: dir } }],
        containers: [{ name: "weir", volumeMounts: [{ name: "work", mountPath: dir }] }],
      },
    };
    const manifest = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "StreamJob",
      metadata: { name, namespace: ns },
      spec: {
        image: "weir:dev",
        job: { module: "test/jobs/exactly-once.ts", args: [String(events), String(KEYS), out, String(rate)], parallelism: 2, ...job },
        checkpointing: { interval: "1s", storage: `file://${dir}/checkpoints` },
        savepoints: { directory: `file://${dir}/savepoints`, ...savepoints },
        config: { "restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "20", "restart-strategy.fixed-delay.delay": "500" },
        jobManager: { podTemplate },
        taskManager: { slots: 1, podTemplate },
      },
    } as unknown as Job;
    return { manifest, out };
  }
  const create = async (job: Job) => custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, body: job });
  const committedExactly = (out: string, events: number) => {
    const d = diffLines(readJsonLines(out), expectedLines(events, KEYS));
    return { missing: d.missing.length, extra: d.extra.length, total: d.total, sample: [...d.missing.slice(0, 3), ...d.extra.slice(0, 3)] };
  };
  const deleteJob = async (name: string) => {
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name });
    await eventually(`${name} deleted`, async () => (await statusOf(getJob(name))) === 404, 120_000);
  };

  /** The pid of a pod's main container, from the node agents' state files. */
  const containerPid = (podName: string): number | undefined => {
    for (const node of readdirSync(join(clusterDir, "agent"))) {
      const file = join(clusterDir, "agent", node, "state.json");
      if (!existsSync(file)) continue;
      const state = JSON.parse(readFileSync(file, "utf8")) as { pods: Record<string, { name: string; containers: Record<string, { pid?: number }> }> };
      for (const p of Object.values(state.pods)) if (p.name === podName) return Object.values(p.containers)[0]?.pid;
    }
    return undefined;
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const lease = async () => coordination.readNamespacedLease({ namespace: opNs, name: LEASE });
  /** JSON log lines of every operator pod's container (appended across restarts). */
  const operatorLogs = (): { pod: string; lines: Record<string, unknown>[] }[] => {
    const root = join(clusterDir, "logs", "pods");
    return readdirSync(root).filter((d) => d.startsWith(`${opNs}_`)).map((d) => {
      const file = join(root, d, "operator.log");
      const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
      return { pod: d, lines };
    });
  };

  beforeAll(async () => {
    await ensureStreamJobCrd();
    work = mkdtempSync(join(tmpdir(), "weir-operator-"));
    opNs = await createNamespace(kc, "weir-system");
    ns = await createNamespace(kc, "jobs");
    await runBin("helm", [
      "install", RELEASE, CHART, "-n", opNs, "--wait", "--timeout", "180s",
      "--set", `watchNamespaces={${ns}}`, "--set", `leaderElection.leaseName=${LEASE}`, "--set", "stabilityWindow=3s",
      "--set", "logLevel=debug",
      // the node agent runs images from the host filesystem: an emptyDir over /tmp would hide a checkout there
      "--set", "tmpVolume=false",
    ]);
    await eventually("a leader", async () => (await lease()).spec?.holderIdentity || undefined, 60_000);
  }, 300_000);

  afterAll(async () => {
    // StreamJobs first, while the operator still runs to release their finalizers
    const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL }).catch(() => ({ items: [] }))) as { items: Job[] };
    await Promise.all(list.items.map((j) => deleteJob(j.metadata.name!).catch(() => undefined)));
    await runBin("helm", ["uninstall", RELEASE, "-n", opNs, "--wait"]).catch(() => undefined);
    await deleteNamespace(kc, ns);
    await deleteNamespace(kc, opNs);
  }, 300_000);

  it("runs two replicas as pods, one of them leading", async () => {
    const ops = await pods("app.kubernetes.io/name=weir-operator", opNs);
    expect(ops).toHaveLength(2);
    // identities are <pod>_<per-process suffix>
    expect(ops.map((p) => p.metadata!.name)).toContain((await lease()).spec!.holderIdentity!.split("_")[0]);
    for (const p of ops) expect(p.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("kubectl apply of an example reaches STABLE with the job RUNNING; deleting it removes every child object and process", async () => {
    await runBin("kubectl", ["apply", "-n", ns, "-f", join(REPO_ROOT, "examples/wordcount.yaml")]);
    await waitFor("wordcount", "STABLE and RUNNING", stable(2));
    const { stdout } = await runBin("kubectl", ["get", "sj", "-n", ns]);
    const [header, row] = stdout.trim().split("\n");
    expect(header!.split(/\s+/)).toEqual(["NAME", "STATE", "JOB-STATE", "PARALLELISM", "LAST-SAVEPOINT", "AGE"]);
    expect(row!.split(/\s+/).slice(0, 4)).toEqual(["wordcount", "STABLE", "RUNNING", "2"]);
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: "involvedObject.name=wordcount" });
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(["LifecycleDEPLOYED", "Deploying", "LifecycleSTABLE"]));

    const jobPods = await pods("weir.dev/streamjob=wordcount");
    expect(jobPods).toHaveLength(3);
    const pids = jobPods.map((p) => containerPid(p.metadata!.name!)).filter((p): p is number => p !== undefined);
    expect(pids).toHaveLength(3);
    await runBin("kubectl", ["delete", "-n", ns, "-f", join(REPO_ROOT, "examples/wordcount.yaml"), "--wait=true", "--timeout=120s"]);
    await eventually("children gone", async () => {
      const [d, p, c, s] = await Promise.all([
        apps.listNamespacedDeployment({ namespace: ns, labelSelector: "weir.dev/streamjob=wordcount" }),
        core.listNamespacedPod({ namespace: ns, labelSelector: "weir.dev/streamjob=wordcount" }),
        core.listNamespacedConfigMap({ namespace: ns, labelSelector: "weir.dev/streamjob=wordcount" }),
        core.listNamespacedService({ namespace: ns, labelSelector: "weir.dev/streamjob=wordcount" }),
      ]);
      return d.items.length + p.items.length + c.items.length + s.items.length === 0;
    }, 120_000);
    await eventually("processes gone", async () => pids.every((pid) => !alive(pid)), 60_000);
  }, 300_000);

  it("exports its metrics in the Prometheus format, the leader reporting 1", async () => {
    const holder = (await lease()).spec!.holderIdentity!.split("_")[0];
    for (const p of await pods("app.kubernetes.io/name=weir-operator", opNs)) {
      const text = await (await fetch(`http://${p.status!.podIP}:8080/metrics`)).text();
      expect(text).toMatch(new RegExp(`^weir_operator_leader ${p.metadata!.name === holder ? 1 : 0}$`, "m"));
      if (p.metadata!.name !== holder) continue;
      expect(text).toMatch(/^weir_operator_reconciles_total\{result="success"\} [1-9]\d*$/m);
      expect(text).toMatch(/^weir_operator_reconcile_duration_seconds_bucket\{le="0\.1"\} \d+$/m);
      expect(text).toMatch(/^weir_operator_actions_total\{action="deploy"\} [1-9]\d*$/m);
      expect(text).toMatch(/^weir_operator_queue_depth \d+$/m);
    }
  });

  it("savepoint upgrade 2 -> 4 with a changed argument, a nonce savepoint and suspend/resume: exactly-once output", async () => {
    const events = 300_000;
    // one savepoint in the history: each new one disposes of the one before
    const { manifest, out } = exactlyOnceJob("eo-savepoint", events, 2_500, { upgradeMode: "savepoint" }, { historyMaxCount: 1 });
    await create(manifest);
    await waitFor("eo-savepoint", "STABLE", stable(2));
    await eventually("committed output", async () => readJsonLines(out).length > 0, 60_000);

    await patchSpec("eo-savepoint", { job: { parallelism: 4, args: [String(events), String(KEYS), out, "3000"] } as StreamJobSpec["job"] });
    await waitFor("eo-savepoint", "UPGRADING", (j) => j.status?.lifecycleState === "UPGRADING", 30_000);
    const upgraded = await waitFor("eo-savepoint", "STABLE at parallelism 4", stable(4));
    const upgradeSavepoint = upgraded.status!.savepointInfo!.lastSavepoint!;
    expect(upgradeSavepoint.triggerType).toBe("upgrade");
    expect(await restoredFrom("eo-savepoint")).toBe(upgradeSavepoint.location);

    await patchSpec("eo-savepoint", { job: { savepointTriggerNonce: 1 } as StreamJobSpec["job"] });
    const nonce = await waitFor("eo-savepoint", "the nonce's savepoint", (j) => j.status?.savepointInfo?.lastSavepoint?.triggerNonce === 1, 60_000);
    expect(nonce.status!.savepointInfo!.lastSavepoint).toMatchObject({ triggerType: "manual" });
    expect(nonce.status!.savepointInfo!.lastSavepoint!.location).not.toBe(upgradeSavepoint.location);
    expect(nonce.status!.lifecycleState).toBe("STABLE");
    expect(nonce.status!.savepointInfo!.history).toHaveLength(1);
    // out of the history, but the running deployment may still restore from it (its JobManager's --from-savepoint)
    expect(existsSync(new URL(upgradeSavepoint.location!))).toBe(true);

    await patchSpec("eo-savepoint", { job: { state: "suspended" } as StreamJobSpec["job"] });
    const suspended = await waitFor("eo-savepoint", "SUSPENDED", (j) => j.status?.lifecycleState === "SUSPENDED");
    expect(await pods("weir.dev/streamjob=eo-savepoint")).toHaveLength(0);
    const resumeFrom = suspended.status!.jobStatus!.upgradeSavepointPath;
    expect(resumeFrom).toBe(suspended.status!.savepointInfo!.lastSavepoint!.location);
    // nothing points at the upgrade and nonce savepoints any more: both disposed of
    await eventually("older savepoints disposed", async () => readdirSync(join(work, "eo-savepoint", "savepoints")).length === 1, 30_000);
    // resume, faster, so the rest of the input goes through quickly
    await patchSpec("eo-savepoint", { job: { state: "running", args: [String(events), String(KEYS), out, "50000"] } as StreamJobSpec["job"] });
    const before = suspended.status!.jobStatus!.jobId;
    await waitFor("eo-savepoint", "running again", (j) => j.status?.jobStatus?.jobId !== before && ["RUNNING", "FINISHED"].includes(j.status?.jobStatus?.state ?? ""));
    expect(await restoredFrom("eo-savepoint")).toBe(resumeFrom);
    await waitFor("eo-savepoint", "FINISHED", (j) => j.status?.jobStatus?.state === "FINISHED", 120_000);
    expect(committedExactly(out, events)).toMatchObject({ missing: 0, extra: 0 });
    expect(readdirSync(join(work, "eo-savepoint", "savepoints"))).toEqual([resumeFrom!.split("/").at(-1)]);
  }, 480_000);

  it("last-state upgrade after SIGKILL of the JobManager process: exactly-once output", async () => {
    const events = 100_000;
    const { manifest, out } = exactlyOnceJob("eo-last-state", events, 2_500, { upgradeMode: "last-state" });
    await create(manifest);
    await waitFor("eo-last-state", "STABLE", stable(2));
    await waitFor("eo-last-state", "a checkpoint", (j) => (j.status?.checkpointInfo?.lastCheckpoint?.id ?? 0) > 0, 60_000);
    const [jm] = await pods("weir.dev/streamjob=eo-last-state,weir.dev/component=jobmanager");
    const pid = containerPid(jm!.metadata!.name!)!;
    process.kill(pid, "SIGKILL");
    await patchSpec("eo-last-state", { job: { parallelism: 4, args: [String(events), String(KEYS), out, "50000"] } as StreamJobSpec["job"] });
    await waitFor("eo-last-state", "FINISHED at parallelism 4", (j) => j.status?.jobStatus?.state === "FINISHED" && j.status.jobStatus.parallelism === 4, 180_000);
    expect(committedExactly(out, events)).toMatchObject({ missing: 0, extra: 0 });
  }, 300_000);

  it("leader failover mid-upgrade: the other replica takes the Lease and resumes the upgrade from status, one savepoint, exactly-once", async () => {
    const events = 300_000;
    const { manifest, out } = exactlyOnceJob("eo-failover", events, 2_500, { upgradeMode: "savepoint" });
    await create(manifest);
    await waitFor("eo-failover", "STABLE", stable(2));
    const before = await lease();
    const leader = before.spec!.holderIdentity!;
    await patchSpec("eo-failover", { job: { parallelism: 3 } as StreamJobSpec["job"] });
    // kill the leader in the middle of the upgrade: once the savepoint trigger is recorded (in flight or
    // done), before the new deployment is stable
    const phase = await eventually("the upgrade in progress with its savepoint trigger recorded", async () => {
      const up = (await getJob("eo-failover")).status?.upgrade;
      return up && up.kind === "upgrade" && (up.triggerId !== undefined || up.phase === "TEARING_DOWN" || up.phase === "DEPLOYING") ? up.phase : undefined;
    }, 60_000, 20);
    const killedAt = Date.now();
    process.kill(containerPid(leader.split("_")[0]!)!, "SIGKILL");
    const taken = await eventually("another leader", async () => {
      const l = await lease();
      return l.spec?.holderIdentity && l.spec.holderIdentity !== leader ? l : undefined;
    }, LEASE_DURATION_MS + 10_000);
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeLessThan(LEASE_DURATION_MS + RETRY_PERIOD_MS + 1_000);
    expect(taken.spec!.leaseTransitions).toBe((before.spec!.leaseTransitions ?? 0) + 1);

    const done = await waitFor("eo-failover", `STABLE at parallelism 3 (leader killed in ${phase})`, stable(3));
    const upgradeSavepoints = done.status!.savepointInfo!.history!.filter((s) => s.triggerType === "upgrade");
    expect(upgradeSavepoints).toHaveLength(1);
    expect(await restoredFrom("eo-failover")).toBe(upgradeSavepoints[0]!.location);
    const savepointDirs = readdirSync(join(work, "eo-failover", "savepoints"));
    expect(savepointDirs).toHaveLength(1);

    // never two leaders at once: the terms in the operator logs do not overlap
    const terms: { pod: string; pid: unknown; from: number; to: number }[] = [];
    for (const { pod, lines } of operatorLogs()) {
      const pids = new Set(lines.map((l) => l.pid));
      for (const pid of pids) {
        const own = lines.filter((l) => l.pid === pid);
        let from: number | undefined;
        for (const l of own) {
          const t = Date.parse(l.time as string);
          if (l.msg === "started leading") from = t;
          if (l.msg === "stopped leading" && from !== undefined) {
            terms.push({ pod, pid, from, to: t });
            from = undefined;
          }
        }
        // a term still open: the killed leader's ended when it was killed (it may have acted after its last line)
        const killed = pod.startsWith(`${opNs}_${leader.split("_")[0]}_`) && pid !== lines.at(-1)!.pid;
        if (from !== undefined) terms.push({ pod, pid, from, to: killed ? killedAt : Date.parse(own.at(-1)!.time as string) });
      }
    }
    expect(terms.length).toBeGreaterThanOrEqual(2);
    terms.sort((a, b) => a.from - b.from);
    for (let i = 1; i < terms.length; i++) expect(terms[i]!.from).toBeGreaterThan(terms[i - 1]!.to);

    await patchSpec("eo-failover", { job: { args: [String(events), String(KEYS), out, "50000"] } as StreamJobSpec["job"] });
    await waitFor("eo-failover", "FINISHED", (j) => j.status?.jobStatus?.state === "FINISHED", 180_000);
    expect(committedExactly(out, events)).toMatchObject({ missing: 0, extra: 0 });
  }, 480_000);

  it("a job that cannot start shows FAILED with the cause", async () => {
    const file = join(work, "broken.yaml");
    writeFileSync(file, JSON.stringify({
      apiVersion: `${GROUP}/${VERSION}`, kind: "StreamJob", metadata: { name: "broken" },
      spec: { image: "weir:dev", job: { module: "test/jobs/no-such-job.ts", parallelism: 1 } },
    }));
    await runBin("kubectl", ["apply", "-n", ns, "-f", file]);
    const failed = await waitFor("broken", "FAILED", (j) => j.status?.lifecycleState === "FAILED", 120_000);
    expect(failed.status!.error).toMatch(/jobmanager pod broken-jobmanager-.*CrashLoopBackOff.*last exit code 1/);
    await deleteJob("broken");
  }, 180_000);
});
