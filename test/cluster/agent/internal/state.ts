/**
 * The agent's durable record of the pods it runs, `<stateDir>/state.json`, written atomically after
 * every change so a restarted agent re-adopts its processes and network namespaces.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Termination } from "./status.js";

/** What is remembered about one container. */
export interface ContainerRecord {
  pid?: number;
  startTicks?: number;
  startedAt?: number;
  restartCount: number;
  failures: number;
  containerID?: string;
  lastTermination?: Termination;
  final?: Termination;
}

/** What is remembered about one pod. */
export interface PodRecord {
  namespace: string;
  name: string;
  ip: string;
  startTime: number;
  containers: Record<string, ContainerRecord>;
}

/** The whole state file: pod uid -> record. */
export interface AgentState {
  pods: Record<string, PodRecord>;
  /** Last octet of the pod IP allocated last (allocation goes on after it). */
  lastIP?: number;
}

/** Reads the state file; a missing or unreadable file is an empty state. */
export function loadState(stateDir: string): AgentState {
  try {
    const s = JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")) as AgentState;
    return { pods: s.pods ?? {}, ...(s.lastIP !== undefined ? { lastIP: s.lastIP } : {}) };
  } catch {
    return { pods: {} };
  }
}

/** Writes the state file atomically (temp file + rename). */
export function saveState(stateDir: string, s: AgentState): void {
  mkdirSync(stateDir, { recursive: true });
  const tmp = join(stateDir, `state.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(s, null, 1));
  renameSync(tmp, join(stateDir, "state.json"));
}
