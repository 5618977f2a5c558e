/**
 * Registered TaskManagers and their slots. Jobs take slots spread round-robin over TaskManagers
 * (like Flink's cluster.evenly-spread-out-slots), so parallel subtasks use every process's core.
 */
import type { AssignedSlot } from "./job-master.js";
import type { TaskManagerInfo } from "./rest-types.js";

export interface RegisteredTaskManager {
  id: string;
  dataAddress: string;
  metricsUrl: string | null;
  pid: number;
  slots: number;
  /** jobId per used slot. */
  readonly used: Map<number, string>;
  lastHeartbeat: number;
}

export class ResourceManager {
  private readonly tms = new Map<string, RegisteredTaskManager>();

  register(tm: Omit<RegisteredTaskManager, "used" | "lastHeartbeat">): RegisteredTaskManager {
    const entry: RegisteredTaskManager = { ...tm, used: new Map(), lastHeartbeat: Date.now() };
    this.tms.set(tm.id, entry);
    return entry;
  }

  get(id: string): RegisteredTaskManager | undefined {
    return this.tms.get(id);
  }

  remove(id: string): RegisteredTaskManager | undefined {
    const tm = this.tms.get(id);
    this.tms.delete(id);
    return tm;
  }

  all(): RegisteredTaskManager[] {
    return [...this.tms.values()];
  }

  get totalSlots(): number {
    return this.all().reduce((n, tm) => n + tm.slots, 0);
  }

  get freeSlots(): number {
    return this.all().reduce((n, tm) => n + tm.slots - tm.used.size, 0);
  }

  /** Take `count` slots for `jobId`, spread over TaskManagers, or null when there are not enough. */
  allocate(jobId: string, count: number): AssignedSlot[] | null {
    if (this.freeSlots < count) return null;
    const out: AssignedSlot[] = [];
    const tms = this.all().sort((a, b) => a.id.localeCompare(b.id));
    while (out.length < count) {
      for (const tm of tms) {
        if (out.length === count) break;
        const free = firstFree(tm);
        if (free === null) continue;
        tm.used.set(free, jobId);
        out.push({ tmId: tm.id, dataAddress: tm.dataAddress });
      }
    }
    return out;
  }

  release(jobId: string): void {
    for (const tm of this.tms.values()) for (const [slot, job] of tm.used) if (job === jobId) tm.used.delete(slot);
  }

  info(): TaskManagerInfo[] {
    return this.all().map((tm) => ({
      id: tm.id,
      dataAddress: tm.dataAddress,
      metricsUrl: tm.metricsUrl,
      pid: tm.pid,
      slots: tm.slots,
      freeSlots: tm.slots - tm.used.size,
      lastHeartbeat: tm.lastHeartbeat,
    }));
  }
}

function firstFree(tm: RegisteredTaskManager): number | null {
  for (let i = 0; i < tm.slots; i++) if (!tm.used.has(i)) return i;
  return null;
}
