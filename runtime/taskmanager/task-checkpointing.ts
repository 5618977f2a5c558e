/**
 * The task side of checkpoints: aligning barriers across input channels, writing what operators
 * snapshot into state files, and handing restored state to operators.
 */
import { randomBytes } from "node:crypto";
import type { BarrierEvent } from "../common/elements.js";
import type { KeyGroupRange } from "../common/keys.js";
import type { RuntimeConfig } from "../config/options.js";
import type { OperatorSnapshot, StateInitContext } from "../operators/operator.js";
import { decodeKeyGroupBlocks } from "../state/key-group-file.js";
import type { KeyedEntry, KeyedStateHandle, OperatorSubtaskState, RestoredOperatorState, StateFileRef } from "../state/snapshot-types.js";
import { joinUrl, storageFor } from "../state/storage/checkpoint-storage.js";
import { readVerified, sha256Hex } from "../state/storage/metadata.js";

/** The gate operations alignment needs. */
export interface BlockingGate {
  readonly numberOfChannels: number;
  isChannelFinished(index: number): boolean;
  unblock(index: number): void;
  unblockAll(): void;
}

/**
 * Aligned exactly-once barrier handling (Flink's SingleCheckpointBarrierHandler): the first barrier of
 * checkpoint N starts alignment, each channel that delivered it stays blocked (the gate blocks it),
 * and when every open channel delivered it the checkpoint is taken and all channels resume. A channel
 * that ended (its upstream subtask finished) counts as aligned: it has nothing more to deliver, all
 * of it precedes the barrier. A newer barrier abandons an unfinished alignment; barriers of
 * checkpoints already taken or abandoned are dropped and their channel resumes at once.
 */
export class BarrierAligner {
  private pending: BarrierEvent | null = null;
  private readonly received = new Set<number>();
  private alignmentStart = 0;
  /** Highest checkpoint id taken or abandoned. */
  private lastHandled = -1;

  constructor(private readonly gate: BlockingGate) {}

  get pendingCheckpoint(): number | null {
    return this.pending?.checkpointId ?? null;
  }

  /** A barrier came out of the gate (its channel is now blocked). Returns it when aligned. */
  onBarrier(channel: number, barrier: BarrierEvent, now: number): { barrier: BarrierEvent; alignmentMs: number } | null {
    if (this.isStale(barrier.checkpointId)) {
      this.gate.unblock(channel);
      return null;
    }
    this.begin(barrier, now);
    this.received.add(channel);
    return this.check(now);
  }

  /**
   * The JobManager triggered checkpoint N at this task itself, because every upstream subtask of it
   * had finished (Flink's FLIP-147): a barrier that no channel will deliver. It is aligned once every
   * channel ended — at once, if they all have. Returns it when aligned.
   */
  onTrigger(barrier: BarrierEvent, now: number): { barrier: BarrierEvent; alignmentMs: number } | null {
    if (this.isStale(barrier.checkpointId)) return null;
    this.begin(barrier, now);
    return this.check(now);
  }

  /** A channel ended: it no longer has to deliver the pending barrier. */
  onChannelEnded(now: number): { barrier: BarrierEvent; alignmentMs: number } | null {
    return this.pending ? this.check(now) : null;
  }

  /** Give up checkpoint `id` (aborted by the JobManager, or superseded): resume every channel. */
  abandon(id: number): void {
    if (this.pending && this.pending.checkpointId <= id) {
      this.pending = null;
      this.received.clear();
      this.gate.unblockAll();
    }
    this.lastHandled = Math.max(this.lastHandled, id);
  }

  /** Checkpoint `id` was taken or abandoned already, or a newer one is being aligned. */
  private isStale(id: number): boolean {
    return id <= this.lastHandled || (this.pending !== null && id < this.pending.checkpointId);
  }

  /** Start aligning `barrier`, abandoning an older alignment; joins an alignment of the same checkpoint. */
  private begin(barrier: BarrierEvent, now: number): void {
    if (this.pending && barrier.checkpointId > this.pending.checkpointId) this.abandon(this.pending.checkpointId);
    if (!this.pending) {
      this.pending = barrier;
      this.received.clear();
      this.alignmentStart = now;
    }
  }

  private check(now: number): { barrier: BarrierEvent; alignmentMs: number } | null {
    const n = this.gate.numberOfChannels;
    for (let i = 0; i < n; i++) if (!this.received.has(i) && !this.gate.isChannelFinished(i)) return null;
    const barrier = this.pending!;
    this.pending = null;
    this.received.clear();
    this.lastHandled = barrier.checkpointId;
    // The caller snapshots and forwards the barrier before any further element is polled.
    this.gate.unblockAll();
    return { barrier, alignmentMs: now - this.alignmentStart };
  }
}

/**
 * Write one operator's snapshot into `targetDir`: the keyed file (if any), one file per raw blob, and
 * the inline lists. Keyed state that did not change refers to `previous`, the file of the last
 * completed checkpoint; raw blobs are always written anew.
 */
export async function persistOperatorSnapshot(
  snapshot: OperatorSnapshot,
  where: { targetDir: string; uid: string; subtask: number; checkpointId: number },
  previous: KeyedStateHandle | null,
  config: RuntimeConfig,
): Promise<{ state: OperatorSubtaskState; bytes: number }> {
  if (snapshot.keyed === "unchanged" && !previous) {
    throw new Error(`operator ${where.uid} reported unchanged keyed state without a previous checkpoint's file`);
  }
  const base = `${safeName(where.uid)}-${where.subtask}-chk${where.checkpointId}-${randomBytes(6).toString("hex")}`;
  const write = (name: string, data: Buffer) => writeStateFile(joinUrl(where.targetDir, name), data, config);
  const fresh = snapshot.keyed === "unchanged" ? null : snapshot.keyed;
  const [written, raw] = await Promise.all([
    fresh && write(`${base}.kg`, fresh.data).then((file) => ({ file, keyGroupStart: fresh.keyGroupStart, offsets: fresh.offsets })),
    Promise.all((snapshot.raw ?? []).map((data, i) => write(`${base}-${i}.raw`, data))),
  ]);
  const keyed = snapshot.keyed === "unchanged" ? previous : written;
  const bytes = [written?.file, ...raw].reduce((n, f) => n + (f?.size ?? 0), 0);
  return { state: { keyed, lists: snapshot.lists, ...(raw.length > 0 ? { raw } : {}) }, bytes };
}

async function writeStateFile(url: string, data: Buffer, config: RuntimeConfig): Promise<StateFileRef> {
  await storageFor(url, config).write(url, data);
  return { url, size: data.length, sha256: sha256Hex(data) };
}

/** One operator's state from two snapshot phases of the same task (e.g. its user lists and its own snapshot). */
export function mergeSubtaskStates(a: OperatorSubtaskState, b: OperatorSubtaskState): OperatorSubtaskState {
  const raw = [...(a.raw ?? []), ...(b.raw ?? [])];
  return { keyed: a.keyed ?? b.keyed, lists: [...a.lists, ...b.lists], ...(raw.length > 0 ? { raw } : {}) };
}

function safeName(uid: string): string {
  return uid.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 60);
}

/** The restore context of one operator: reads (and verifies) the files holding its key groups and its raw state. */
export function stateInitContext(restored: RestoredOperatorState | undefined, range: KeyGroupRange, config: RuntimeConfig): StateInitContext {
  return {
    isRestored: restored !== undefined,
    lists: restored?.lists ?? [],
    async keyedEntries(): Promise<Iterable<KeyedEntry>> {
      if (!restored || restored.keyed.length === 0) return [];
      const parts = await Promise.all(
        restored.keyed.map(async (h) => {
          const data = await readVerified(storageFor(h.file.url, config), h.file);
          return [...decodeKeyGroupBlocks(data, h, range)];
        }),
      );
      return parts.flat();
    },
    rawState(): Promise<Buffer[]> {
      return Promise.all((restored?.raw ?? []).map((ref) => readVerified(storageFor(ref.url, config), ref)));
    },
  };
}
