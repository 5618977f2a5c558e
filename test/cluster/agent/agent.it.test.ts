/**
 * Acceptance of the node agent against the real cluster (run by `npm run test:cluster`; skipped
 * without a cluster). The suite starts its own agent as a child process on node `weir-node-7` so it
 * can SIGKILL and restart it; its pods are pinned there with a nodeSelector or spec.nodeName.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from "@kubernetes/client-node";
import { spawnNodeAgent, type SpawnedAgent } from "./spawn.js";
import { podLogDir } from "./logs.js";
import { processAlive, processStartTicks } from "./internal/process.js";

const kubeconfig = process.env.WEIR_TEST_KUBECONFIG ?? ((inject as (key: string) => unknown)("kubeconfig") as string | undefined);
const REPO = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");
const NODE = "weir-node-7";
const CLUSTER_DIR = process.env.WEIR_TEST_CLUSTER_DIR ?? join(REPO, ".cluster", "test");
const STATE_DIR = join(CLUSTER_DIR, "agent", NODE);
const LOG_DIR = join(CLUSTER_DIR, "logs");
const NS = `agent-it-${Date.now().toString(36)}`;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const isReady = (p: V1Pod) => p.status?.phase === "Running" && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True");
const pidOf = (p: V1Pod, i = 0) => Number(p.status?.containerStatuses?.[i]?.containerID?.replace("weir-process://", ""));
const podEnv = [
  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
];

describe.skipIf(!kubeconfig)("node agent on a real cluster", () => {
  const kc = new KubeConfig();
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let agent: SpawnedAgent;
  const agentArgs = ["--kubeconfig", kubeconfig ?? "", "--state-dir", STATE_DIR, "--log-dir", LOG_DIR, "--backoff-base-ms", "1000"];

  beforeAll(async () => {
    kc.loadFromFile(kubeconfig!);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    agent = await spawnNodeAgent(agentArgs, { node: NODE, logFile: join(LOG_DIR, `agent-${NODE}.log`) });
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await waitFor("default service account", () => core.readNamespacedServiceAccount({ name: "default", namespace: NS }));
  }, 120_000);

  afterAll(async () => {
    await core?.deleteNamespace({ name: NS }).catch(() => undefined);
    await waitFor("pods of the namespace gone", async () => (await core.listNamespacedPod({ namespace: NS })).items.length === 0, 60_000).catch(() => undefined);
    await agent?.stop();
  }, 120_000);

  it("registers a Ready node and renews its Lease", async () => {
    const node = await waitFor("node", () => core.readNode({ name: NODE }));
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(node.status?.addresses).toContainEqual({ type: "InternalIP", address: "10.88.0.1" });
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: NODE, namespace: "kube-node-lease" });
    expect(lease.spec?.holderIdentity).toBe(NODE);
    expect(Date.now() - new Date(lease.spec!.renewTime!).getTime()).toBeLessThan(30_000);
  });

  it("runs a Deployment of 2 replicas as Ready pods with distinct IPs; the ReplicaSet replaces a deleted pod; GC removes them", async () => {
    const labels = { app: "web" };
    await apps.createNamespacedDeployment({ namespace: NS, body: {
      metadata: { name: "web" },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: {
        nodeSelector: { "kubernetes.io/hostname": NODE }, terminationGracePeriodSeconds: 5,
        containers: [{ name: "web", image: "weir:dev", command: ["node", "test/cluster/agent/fixtures/http-server.mjs"], env: podEnv, ports: [{ name: "http", containerPort: 8080 }],
          readinessProbe: { httpGet: { path: "/", port: "http" as never }, periodSeconds: 1 } }],
      } } },
    } });
    const ready = async () => {
      const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: "app=web" })).items;
      const r = pods.filter((p) => isReady(p) && !p.metadata?.deletionTimestamp);
      return r.length === 2 && pods.length === 2 ? r : undefined;
    };
    const pods = await waitFor("2 ready web pods", ready, 60_000);
    const ips = pods.map((p) => p.status!.podIP!);
    expect(new Set(ips).size).toBe(2);
    for (const p of pods) {
      expect(p.status?.podIP).toMatch(/^10\.88\.7\.\d+$/);
      const body = await (await fetch(`http://${p.status!.podIP}:8080/`)).text();
      expect(body.trim()).toBe(`${p.metadata!.name} ${p.status!.podIP}`);
    }

    const victim = pods[0]!;
    const victimPid = pidOf(victim);
    await core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace: NS });
    const after = await waitFor("a replacement pod", async () => {
      const r = await ready();
      return r && !r.some((p) => p.metadata!.uid === victim.metadata!.uid) ? r : undefined;
    }, 60_000);
    expect(after.map((p) => p.metadata!.name)).toContain(pods[1]!.metadata!.name);
    expect(existsSync(`/proc/${victimPid}`)).toBe(false);
    const dir = podLogDir(LOG_DIR, NS, victim.metadata!.name!);
    expect(readFileSync(join(dir!, "web.log"), "utf8")).toContain("got SIGTERM");

    const pids = after.map((p) => pidOf(p));
    const ticks = pids.map((pid) => processStartTicks(pid));
    await apps.deleteNamespacedDeployment({ name: "web", namespace: NS, propagationPolicy: "Background" });
    await waitFor("web pods removed by GC", async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: "app=web" })).items.length === 0, 60_000);
    pids.forEach((pid, i) => expect(processAlive(pid, ticks[i]!)).toBe(false));
  });

  it("mounts a ConfigMap and the SA token; loadFromCluster() is allowed or denied as the RoleBinding says", async () => {
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "settings" }, data: { greeting: "hello from a configmap", LEVEL: "debug" } } });
    for (const name of ["reader", "nobody"]) await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name } } });
    await rbac.createNamespacedRole({ namespace: NS, body: { metadata: { name: "pod-reader" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "get"] }] } });
    await rbac.createNamespacedRoleBinding({ namespace: NS, body: { metadata: { name: "reader-reads" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
      subjects: [{ kind: "ServiceAccount", name: "reader", namespace: NS }] } });
    const run = async (name: string, sa: string) => {
      await core.createNamespacedPod({ namespace: NS, body: { metadata: { name, labels: { app: "probe-rbac" } }, spec: {
        nodeName: NODE, serviceAccountName: sa, restartPolicy: "Never",
        volumes: [{ name: "config", configMap: { name: "settings" } }],
        containers: [{ name: "main", image: "weir:dev", command: ["node", "test/cluster/agent/fixtures/in-cluster.mjs"],
          volumeMounts: [{ name: "config", mountPath: "/etc/config", readOnly: true }],
          envFrom: [{ configMapRef: { name: "settings" } }],
          env: [...podEnv, { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }, { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } }] }],
      } } });
      const pod = await waitFor(`${name} Succeeded`, async () => {
        const p = await core.readNamespacedPod({ name, namespace: NS });
        if (p.status?.phase === "Failed") throw new Error(`pod ${name} failed: ${JSON.stringify(p.status.containerStatuses)}`);
        return p.status?.phase === "Succeeded" ? p : undefined;
      }, 60_000);
      expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
      const log = readFileSync(join(podLogDir(LOG_DIR, NS, name)!, "main.log"), "utf8");
      return { pod, result: JSON.parse(/RESULT (.*)/.exec(log)![1]!) };
    };
    const allowed = await run("reader-pod", "reader");
    expect(allowed.result).toMatchObject({ greeting: "hello from a configmap", token: true, caCrt: true, namespace: NS, list: { ok: true } });
    expect(allowed.result.env).toEqual({ POD_NAME: "reader-pod", POD_IP: allowed.pod.status!.podIP, NODE, APP: "probe-rbac", LEVEL: "debug" });
    expect(allowed.result.list.count).toBeGreaterThanOrEqual(1);
    const denied = await run("nobody-pod", "nobody");
    expect(denied.result).toMatchObject({ token: true, list: { ok: false, code: 403 } });
  });

  it("restarts a crashing container with back-off and a rising restartCount", async () => {
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: "crasher" }, spec: {
      nodeName: NODE, containers: [{ name: "crash", image: "weir:dev", command: ["sh", "-c", "echo crashing; exit 3"] }],
    } } });
    const seen: Array<{ t: number; count: number }> = [];
    const pod = await waitFor("restartCount >= 3", async () => {
      const p = await core.readNamespacedPod({ name: "crasher", namespace: NS });
      const count = p.status?.containerStatuses?.[0]?.restartCount ?? 0;
      if (seen.at(-1)?.count !== count) seen.push({ t: Date.now(), count });
      return count >= 3 ? p : undefined;
    }, 60_000);
    const cs = pod.status!.containerStatuses![0]!;
    expect(cs.lastState?.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(pod.status?.phase).toBe("Running");
    // back-off doubles (1 s, 2 s, 4 s with the test's 1 s base): the third restart comes well after the first
    const first = seen.find((s) => s.count === 1)!;
    const third = seen.find((s) => s.count === 3)!;
    expect(third.t - first.t).toBeGreaterThan(2_500);
    const log = readFileSync(join(podLogDir(LOG_DIR, NS, "crasher")!, "crash.log"), "utf8");
    expect(log.match(/crashing/g)!.length).toBeGreaterThanOrEqual(3);
  });

  it("keeps pods Running across a SIGKILL and restart of the agent", async () => {
    for (const name of ["survivor", "orphan"]) {
      await core.createNamespacedPod({ namespace: NS, body: { metadata: { name }, spec: {
        nodeName: NODE, terminationGracePeriodSeconds: 2,
        containers: [{ name: "web", image: "weir:dev", command: ["node", "test/cluster/agent/fixtures/http-server.mjs"], env: podEnv,
          readinessProbe: { tcpSocket: { port: 8080 as never }, periodSeconds: 1 } }],
      } } });
    }
    const before = await waitFor("both ready", async () => {
      const ps = await Promise.all(["survivor", "orphan"].map((name) => core.readNamespacedPod({ name, namespace: NS })));
      return ps.every(isReady) ? ps : undefined;
    });
    await agent.kill();
    const [survivor, orphan] = before as [V1Pod, V1Pod];
    expect(existsSync(`/proc/${pidOf(survivor)}`)).toBe(true);
    process.kill(pidOf(orphan), "SIGKILL");
    agent = await spawnNodeAgent(agentArgs, { node: NODE, logFile: join(LOG_DIR, `agent-${NODE}.log`) });
    const after = await waitFor("both ready again", async () => {
      const ps = await Promise.all(["survivor", "orphan"].map((name) => core.readNamespacedPod({ name, namespace: NS })));
      return ps.every(isReady) && ps[1]!.status!.containerStatuses![0]!.restartCount === 1 ? ps : undefined;
    });
    expect(pidOf(after[0]!)).toBe(pidOf(survivor));
    expect(after[0]!.status!.containerStatuses![0]!.restartCount).toBe(0);
    expect(after[1]!.status!.podIP).toBe(orphan.status!.podIP);
    const body = await (await fetch(`http://${survivor.status!.podIP}:8080/`)).text();
    expect(body.trim()).toBe(`survivor ${survivor.status!.podIP}`);
  });
});
