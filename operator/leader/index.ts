/**
 * Lease-based leader election for the operator's replicas (`coordination.k8s.io/v1` Lease, client-go semantics).
 *
 * ```ts
 * const client = coordinationLeaseClient(kc.makeApiClient(k8s.CoordinationV1Api));
 * for (;;) {                                   // a fresh elector per leadership term
 *   const elector = new LeaseElector({
 *     client, namespace: "weir-system", name: "weir-operator-leader", identity: podName,
 *     onStartedLeading: (signal) => manager.startLeaderRunnables(signal),
 *     onStoppedLeading: () => manager.stopLeaderRunnables(),
 *     log,
 *   });
 *   process.once("SIGTERM", () => void elector.stop({ release: true }));
 *   await elector.run();                        // campaign, lead, resolve when leadership ends
 * }
 * ```
 */
export {
  decide,
  formatMicroTime,
  observe,
  releaseRecord,
  sameRecord,
  type DecideInput,
  type DecideResult,
  type Decision,
  type LeaderElectionRecord,
  type Observation,
  type ObservedLease,
} from "./election-state.js";
export { LeaseElector } from "./lease-elector.js";
export { LeaseConflictError, silentLog, systemClock, type Clock, type ElectionLog, type LeaseClient } from "./lease-client.js";
export { coordinationLeaseClient } from "./k8s-lease-client.js";
export { compileElectorOptions, ELECTION_DEFAULTS, LeaderElectionError, type ElectorConfig, type LeaseElectorOptions } from "./options.js";
