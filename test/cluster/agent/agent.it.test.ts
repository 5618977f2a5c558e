/**
 * Acceptance of the node agent against the real cluster (run by `npm run test:cluster`; skipped
 * without a cluster). The suite starts its own agent as a child process on node `weir-node-7` so it
 * can SIGKILL and restart it; its pods are pinned there with a nodeSelector or spec.nodeName.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from "@kubernetes/client-node";
import { spawnNodeAgent, type SpawnedAgent } from "./spawn.js";
import { podLogDir } from "./logs.js";
import { eventually } from "../support.js";
import { processAlive, processStartTicks } from "./internal/process.js";

const kubeconfig = process.env.WEIR_TEST_KUBECONFIG ?? ((inject as (key: string) => unknown)("kubeconfig") as string | undefined);
const REPO = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");
const NODE = process.env.WEIR_AGENT_IT_NODE ?? "weir-node-7";
const NODE2 = process.env.WEIR_AGENT_IT_NODE2 ?? "weir-node-9";
const CLUSTER_DIR = process.env.WEIR_TEST_CLUSTER_DIR ?? join(REPO, ".cluster", "test");
const STATE_DIR = join(CLUSTER_DIR, "agent", NODE);
const LOG_DIR = join(CLUSTER_DIR, "logs");
const NS = `agent-it-${Date.now().toString(36)}`;
const TAINT = "weir.dev/agent-test=true";

/** The suite's waits: `eventually` with a minute by default (pods start processes). */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => eventually(what, fn, timeoutMs);

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
  // tainted, so that other suites' pods are never scheduled onto this suite's short-lived nodes
  const agentArgs = ["--kubeconfig", kubeconfig ?? "", "--state-dir", STATE_DIR, "--log-dir", LOG_DIR, "--backoff-base-ms", "1000", "--taint", `${TAINT}:NoSchedule`];

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
    for (const name of [NODE, NODE2]) await core?.deleteNode({ name }).catch(() => undefined);
  }, 120_000);

  it("registers a Ready node and renews its Lease", async () => {
    const node = await waitFor("node", () => core.readNode({ name: NODE }));
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(node.status?.addresses).toContainEqual({ type: "InternalIP", address: "10.88.0.1" });
    expect(node.spec?.taints).toContainEqual({ key: "weir.dev/agent-test", value: "true", effect: "NoSchedule" });
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
        tolerations: [{ key: "weir.dev/agent-test", operator: "Exists", effect: "NoSchedule" }],
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
      expect(p.status?.podIP).toMatch(/^10\.88\.\d+\.\d+$/);
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
    expect(allowed.result).toMatchObject({ hostname: "reader-pod", resolved: allowed.pod.status!.podIP });
    expect(allowed.result.list.count).toBeGreaterThanOrEqual(1);
    const denied = await run("nobody-pod", "nobody");
    expect(denied.result).toMatchObject({ token: true, list: { ok: false, code: 403 } });
  });

  it("updates a mounted ConfigMap's files after the ConfigMap changes", async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "live" }, data: { value: "one" } } });
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: "watcher" }, spec: {
      nodeName: NODE, terminationGracePeriodSeconds: 1, volumes: [{ name: "live", configMap: { name: "live" } }],
      containers: [{ name: "main", image: "weir:dev", command: ["sh", "-c", "while :; do echo \"value=$(cat /live/value)\"; sleep 0.5; done"],
        volumeMounts: [{ name: "live", mountPath: "/live", readOnly: true }] }],
    } } });
    const log = () => { const d = podLogDir(LOG_DIR, NS, "watcher"); return d && existsSync(join(d, "main.log")) ? readFileSync(join(d, "main.log"), "utf8") : ""; };
    await waitFor("value=one", async () => log().includes("value=one"), 30_000);
    await core.replaceNamespacedConfigMap({ name: "live", namespace: NS, body: { metadata: { name: "live" }, data: { value: "two" } } });
    await waitFor("value=two", async () => log().includes("value=two"), 30_000);
    await core.deleteNamespacedPod({ name: "watcher", namespace: NS });
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

  it("mounts emptyDir, hostPath and a PVC-bound hostPath PV; exec startup and liveness probes restart a container that turns unhealthy", async () => {
    const pvDir = join(CLUSTER_DIR, "pv", NS);
    const hostDir = join(CLUSTER_DIR, "hostpath", NS);
    await core.createPersistentVolume({ body: { metadata: { name: `${NS}-pv` }, spec: {
      capacity: { storage: "1Mi" }, accessModes: ["ReadWriteOnce"], storageClassName: "manual", hostPath: { path: pvDir, type: "DirectoryOrCreate" },
      persistentVolumeReclaimPolicy: "Retain" } } });
    await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name: "data" }, spec: {
      accessModes: ["ReadWriteOnce"], storageClassName: "manual", volumeName: `${NS}-pv`, resources: { requests: { storage: "1Mi" } } } } });
    await waitFor("PVC bound", async () => (await core.readNamespacedPersistentVolumeClaim({ name: "data", namespace: NS })).status?.phase === "Bound", 30_000);
    const check = { exec: { command: ["test", "-f", "/scratch/ok"] }, periodSeconds: 1, failureThreshold: 1 };
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: "volumes" }, spec: {
      nodeName: NODE, terminationGracePeriodSeconds: 1,
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }, { name: "host", hostPath: { path: hostDir, type: "DirectoryOrCreate" } }, { name: "scratch", emptyDir: {} }],
      containers: [{ name: "main", image: "weir:dev",
        command: ["sh", "-c", "echo pvc-$POD_NAME > /data/out.txt; echo host-$POD_NAME > /host/out.txt; touch /scratch/ok; sleep 3; rm /scratch/ok; sleep 1000"],
        env: podEnv, volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "host", mountPath: "/host" }, { name: "scratch", mountPath: "/scratch" }],
        startupProbe: { ...check, failureThreshold: 20 }, livenessProbe: check }],
    } } });
    await waitFor("started", async () => (await core.readNamespacedPod({ name: "volumes", namespace: NS })).status?.containerStatuses?.[0]?.started === true, 30_000);
    expect(readFileSync(join(pvDir, "out.txt"), "utf8").trim()).toBe("pvc-volumes");
    expect(readFileSync(join(hostDir, "out.txt"), "utf8").trim()).toBe("host-volumes");
    const pod = await waitFor("a liveness restart", async () => {
      const p = await core.readNamespacedPod({ name: "volumes", namespace: NS });
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
    }, 30_000);
    expect(pod.status!.containerStatuses![0]!.lastState?.terminated).toMatchObject({ exitCode: 143, signal: 15, reason: "Error", message: expect.stringContaining("liveness probe") });
    await core.deletePersistentVolume({ name: `${NS}-pv` });
  });

  it("runs init containers to completion before the main container", async () => {
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: "with-init" }, spec: {
      nodeName: NODE, restartPolicy: "Never", volumes: [{ name: "shared", emptyDir: {} }],
      initContainers: [{ name: "prep", image: "weir:dev", command: ["sh", "-c", "echo prepared > /shared/msg"], volumeMounts: [{ name: "shared", mountPath: "/shared" }] }],
      containers: [{ name: "main", image: "weir:dev", command: ["sh", "-c", "cat /shared/msg"], volumeMounts: [{ name: "shared", mountPath: "/shared" }] }],
    } } });
    const pod = await waitFor("with-init Succeeded", async () => {
      const p = await core.readNamespacedPod({ name: "with-init", namespace: NS });
      return p.status?.phase === "Succeeded" ? p : undefined;
    }, 30_000);
    expect(pod.status?.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(readFileSync(join(podLogDir(LOG_DIR, NS, "with-init")!, "main.log"), "utf8").trim()).toBe("prepared");
  });

  it("SIGKILLs a container that ignores SIGTERM once the grace period is over, then deletes the pod", async () => {
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: "stubborn" }, spec: {
      nodeName: NODE, terminationGracePeriodSeconds: 2,
      containers: [{ name: "main", image: "weir:dev", command: ["sh", "-c", "trap 'echo ignoring TERM' TERM; echo started; while :; do sleep 0.2; done"] }],
    } } });
    const running = await waitFor("stubborn running", async () => {
      const p = await core.readNamespacedPod({ name: "stubborn", namespace: NS });
      return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
    }, 30_000);
    const pid = pidOf(running);
    const ticks = processStartTicks(pid)!;
    // "running" is reported once the process is spawned; SIGTERM before the shell has installed its trap
    // would end it at once, so wait for the line it prints after the trap.
    await waitFor("stubborn trapping TERM", async () => {
      const dir = podLogDir(LOG_DIR, NS, "stubborn");
      return dir !== undefined && existsSync(join(dir, "main.log")) && readFileSync(join(dir, "main.log"), "utf8").includes("started");
    }, 30_000);
    const t0 = Date.now();
    await core.deleteNamespacedPod({ name: "stubborn", namespace: NS });
    await waitFor("stubborn gone", async () => {
      try { await core.readNamespacedPod({ name: "stubborn", namespace: NS }); return undefined; } catch (err) { return (err as { code?: number }).code === 404; }
    }, 30_000);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1_800);
    expect(took).toBeLessThan(10_000);
    expect(processAlive(pid, ticks)).toBe(false);
    expect(readFileSync(join(podLogDir(LOG_DIR, NS, "stubborn")!, "main.log"), "utf8")).toContain("ignoring TERM");
  });

  it("runs hostNetwork pods in the host's network namespace", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: "host-net" }, spec: {
      nodeName: NODE, hostNetwork: true, terminationGracePeriodSeconds: 2,
      containers: [{ name: "web", image: "weir:dev", command: ["node", "test/cluster/agent/fixtures/http-server.mjs"], env: [...podEnv, { name: "PORT", value: String(port) }],
        readinessProbe: { httpGet: { port: port as never, host: "127.0.0.1" }, periodSeconds: 1 } }],
    } } });
    const pod = await waitFor("host-net ready", async () => {
      const p = await core.readNamespacedPod({ name: "host-net", namespace: NS });
      return isReady(p) ? p : undefined;
    }, 30_000);
    expect(pod.status?.podIP).toBe("10.88.0.1");
    expect((await (await fetch(`http://127.0.0.1:${port}/`)).text()).trim()).toBe("host-net 10.88.0.1");
    await core.deleteNamespacedPod({ name: "host-net", namespace: NS });
  });

  it("connects pods on two nodes with each other and with a server on the host", async () => {
    const second = await spawnNodeAgent(["--kubeconfig", kubeconfig!, "--state-dir", join(CLUSTER_DIR, "agent", NODE2), "--log-dir", LOG_DIR, "--taint", `${TAINT}:NoSchedule`],
      { node: NODE2, logFile: join(LOG_DIR, `agent-${NODE2}.log`) });
    const host = createServer((s) => s.end("hello from the host\n"));
    await new Promise<void>((r) => host.listen(0, "0.0.0.0", r));
    try {
      await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: "server-b" }, spec: {
        nodeName: NODE2, terminationGracePeriodSeconds: 2,
        containers: [{ name: "web", image: "weir:dev", command: ["node", "test/cluster/agent/fixtures/http-server.mjs"], env: podEnv,
          readinessProbe: { tcpSocket: { port: 8080 as never }, periodSeconds: 1 } }],
      } } });
      const server = await waitFor("server-b ready", async () => {
        const p = await core.readNamespacedPod({ name: "server-b", namespace: NS });
        return isReady(p) ? p : undefined;
      }, 30_000);
      const script = "const net=require('net');const get=(h,p)=>new Promise(r=>{let d='';net.connect(p,h).on('data',x=>d+=x).on('end',()=>r(d.trim())).on('error',e=>r('ERR '+e.message))});"
        + "(async()=>{const h=await get('10.88.0.1',Number(process.env.HOST_PORT));"
        + "const b=await fetch('http://'+process.env.TARGET+':8080/').then(r=>r.text(),e=>'ERR '+e.message);console.log('HOST '+h);console.log('PEER '+b.trim())})()";
      await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: "client-a" }, spec: {
        nodeName: NODE, restartPolicy: "Never",
        containers: [{ name: "main", image: "weir:dev", command: ["node", "-e", script],
          env: [{ name: "TARGET", value: server.status!.podIP! }, { name: "HOST_PORT", value: String((host.address() as AddressInfo).port) }] }],
      } } });
      await waitFor("client-a done", async () => (await core.readNamespacedPod({ name: "client-a", namespace: NS })).status?.phase === "Succeeded", 30_000);
      const log = readFileSync(join(podLogDir(LOG_DIR, NS, "client-a")!, "main.log"), "utf8");
      expect(server.status!.podIP).toMatch(/^10\.88\.\d+\.\d+$/);
      expect(log).toContain("HOST hello from the host");
      expect(log).toContain(`PEER server-b ${server.status!.podIP}`);
      await core.deleteNamespacedPod({ name: "server-b", namespace: NS });
      await waitFor("server-b gone", async () => (await core.listNamespacedPod({ namespace: NS, fieldSelector: "metadata.name=server-b" })).items.length === 0, 30_000);
    } finally {
      host.close();
      await second.stop();
    }
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
