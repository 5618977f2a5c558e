// Leader election on the real kube-apiserver: two in-process electors with short timings share one Lease;
// exactly one leads, a crashed leader is replaced within leaseDuration + retryPeriod, a released Lease within
// about one retryPeriod, and a leader cut off from the API stops before the other starts.
import { afterAll, beforeAll, expect, it } from "vitest";
import { coordinationLeaseClient, type LeaseClient, LeaseElector } from "../../operator/leader/index.js";
import { adminConfig, createNamespace, deleteNamespace, describeCluster, eventually, k8s } from "./support.js";

const LEASE = 3_000;
const RENEW = 2_000;
const RETRY = 500;

describeCluster("Lease leader election", () => {
  const admin = adminConfig();
  const coordination = admin.makeApiClient(k8s.CoordinationV1Api);
  const client = coordinationLeaseClient(coordination);
  let ns = "";
  const running: LeaseElector[] = [];

  interface Candidate { id: string; elector: LeaseElector; startedAt?: number; stoppedAt?: number; done: Promise<void> }

  function candidate(id: string, name: string, leaseClient: LeaseClient = client): Candidate {
    const c: Partial<Candidate> = { id };
    c.elector = new LeaseElector({
      client: leaseClient, namespace: ns, name, identity: id, leaseDurationMs: LEASE, renewDeadlineMs: RENEW, retryPeriodMs: RETRY,
      onStartedLeading: () => void (c.startedAt = Date.now()),
      onStoppedLeading: () => void (c.stoppedAt = Date.now()),
    });
    c.done = c.elector.run();
    running.push(c.elector);
    return c as Candidate;
  }

  const lease = (name: string) => coordination.readNamespacedLease({ name, namespace: ns });
  const leaders = (cs: Candidate[]) => cs.filter((c) => c.elector.isLeader());

  beforeAll(async () => {
    ns = await createNamespace(admin, "leader");
  });

  afterAll(async () => {
    await Promise.all(running.map((e) => e.stop()));
    await deleteNamespace(admin, ns);
  });

  it("one of two leads; a crashed leader is replaced within leaseDuration + retryPeriod; a release hands over at once", async () => {
    const a = candidate("replica-a", "operator");
    const b = candidate("replica-b", "operator");
    const [first] = await eventually("a leader", async () => leaders([a, b]).length === 1 && leaders([a, b]), 10_000);
    const second = first === a ? b : a;
    await new Promise((r) => setTimeout(r, 2 * LEASE)); // renewing keeps it: still exactly one leader
    expect(leaders([a, b])).toEqual([first]);
    let l = await lease("operator");
    expect(l.spec).toMatchObject({ holderIdentity: first!.id, leaseDurationSeconds: 3, leaseTransitions: 0 });
    expect(String(l.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    // crash: stop renewing without releasing
    const crashedAt = Date.now();
    await first!.elector.stop({ release: false });
    await first!.done;
    await eventually("the other replica leads", async () => second.elector.isLeader(), 10_000);
    const takeover = second.startedAt! - crashedAt;
    expect(takeover).toBeGreaterThan(LEASE - RETRY - 200);
    expect(takeover).toBeLessThan(LEASE + RETRY + 1_000);
    l = await lease("operator");
    expect(l.spec).toMatchObject({ holderIdentity: second.id, leaseTransitions: 1 });

    // a fresh elector for the next term; then a graceful stop with release hands over within about retryPeriod
    const again = candidate(first!.id, "operator");
    await new Promise((r) => setTimeout(r, 2 * RETRY));
    expect(again.elector.isLeader()).toBe(false);
    const releasedAt = Date.now();
    await second.elector.stop({ release: true });
    await eventually("the new elector leads", async () => again.elector.isLeader(), 5_000);
    expect(again.startedAt! - releasedAt).toBeLessThan(RETRY + 700);
    l = await lease("operator");
    expect(l.spec).toMatchObject({ holderIdentity: again.id, leaseTransitions: 2 });
  });

  it("a leader cut off from the API stops leading before the other starts", async () => {
    let cut = false;
    const flaky: LeaseClient = {
      get: (...args) => (cut ? Promise.reject(new Error("network unreachable")) : client.get(...args)),
      create: (...args) => (cut ? Promise.reject(new Error("network unreachable")) : client.create(...args)),
      replace: (...args) => (cut ? Promise.reject(new Error("network unreachable")) : client.replace(...args)),
    };
    const a = candidate("replica-a", "partition", flaky);
    await eventually("a leads", async () => a.elector.isLeader(), 10_000);
    const b = candidate("replica-b", "partition");
    await new Promise((r) => setTimeout(r, LEASE));
    expect(b.elector.isLeader()).toBe(false);
    cut = true;
    await eventually("b leads", async () => b.elector.isLeader(), 10_000);
    await a.done;
    expect(a.stoppedAt).toBeDefined();
    expect(a.stoppedAt!).toBeLessThan(b.startedAt!);
    expect((await lease("partition")).spec).toMatchObject({ holderIdentity: "replica-b", leaseTransitions: 1 });
  });
});
