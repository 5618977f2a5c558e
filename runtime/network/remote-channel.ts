/**
 * An input channel whose producer runs in another TaskManager, reached over the ConnectionManager's
 * shared TCP connection to it.
 *
 * Credit-based flow control: the request grants `buffersPerChannel` credits; the sender spends one per
 * batch (events are free) and stops at zero. Each batch the task takes out of the receive queue earns
 * one credit back; credits are returned in bulk (AddCredit) once half the window is owed or the queue
 * ran dry. So at most `buffersPerChannel` batches are ever queued or in flight per channel.
 */
import type { StreamElement } from "../common/elements.js";
import { WeirError } from "../common/errors.js";
import type { ClientConnection } from "./client-connection.js";
import type { ChannelListener, InputChannel } from "./input-channel.js";
import { RingQueue } from "./ring-queue.js";

/** Default credit (batches) per remote channel. */
export const DEFAULT_BUFFERS_PER_CHANNEL = 4;

/** How to build a RemoteInputChannel. */
export interface RemoteChannelOptions {
  /** `host:port` of the producing TaskManager's DataServer. */
  readonly address: string;
  readonly partitionId: string;
  readonly subpartition: number;
  /** Credit window in batches; default 4. */
  readonly buffersPerChannel?: number;
}

/** Where a remote channel gets its connection (the ConnectionManager). */
export interface ConnectionProvider {
  connectionTo(address: string): ClientConnection;
}

type State = "created" | "requested" | "finished" | "failed" | "released";

/** Receives one remote subpartition into a credit-bounded queue. */
export class RemoteInputChannel implements InputChannel {
  readonly description: string;
  readonly address: string;
  /** Batches the sender still had queued when it sent the last one (its backlog). */
  lastBacklog = 0;
  /** @internal set by the connection while a credit announcement is scheduled */
  creditScheduled = false;
  private readonly queue = new RingQueue<StreamElement>();
  private readonly buffersPerChannel: number;
  private readonly creditThreshold: number;
  private batchesQueued = 0;
  private owedCredit = 0;
  private state: State = "created";
  private listener: ChannelListener | null = null;
  private connection: ClientConnection | null = null;
  private receiverId = -1;

  constructor(
    private readonly connections: ConnectionProvider,
    private readonly options: RemoteChannelOptions,
  ) {
    this.address = options.address;
    this.buffersPerChannel = options.buffersPerChannel ?? DEFAULT_BUFFERS_PER_CHANNEL;
    if (!Number.isInteger(this.buffersPerChannel) || this.buffersPerChannel < 1) {
      throw new WeirError("WEIR_E_CONFIG", `buffersPerChannel must be a positive integer, got ${this.buffersPerChannel}`);
    }
    this.creditThreshold = Math.max(1, this.buffersPerChannel >> 1);
    this.description = `partition ${options.partitionId} subpartition ${options.subpartition} at TaskManager ${options.address}`;
  }

  /** Batches received and not yet taken. */
  /** Batches received and not yet polled: never more than the credit granted. */
  queuedBatches(): number {
    return this.batchesQueued;
  }

  /** Send the partition request over the (possibly new) connection to the producer's TaskManager. */
  start(listener: ChannelListener): void {
    if (this.state !== "created") return;
    this.listener = listener;
    this.state = "requested";
    this.connection = this.connections.connectionTo(this.address);
    this.receiverId = this.connection.register(this);
    const { partitionId, subpartition } = this.options;
    this.connection.requestPartition(this.receiverId, partitionId, subpartition, this.buffersPerChannel);
  }

  poll(): StreamElement | undefined {
    const element = this.queue.shift();
    if (element === undefined) return undefined;
    if (element.kind === "batch") {
      this.batchesQueued--;
      this.owedCredit++;
    } else if (element.kind === "end") {
      this.state = "finished";
      this.connection!.unregister(this.receiverId); // the sender forgot us when it sent the end
      return element;
    }
    // Announce once half the window is owed, or when we ran dry and the sender may be waiting for us.
    if (this.owedCredit >= this.creditThreshold || (this.owedCredit > 0 && this.queue.length === 0)) {
      this.connection!.scheduleCredit(this);
    }
    return element;
  }

  release(): void {
    if (this.state === "requested") this.connection!.cancel(this.receiverId);
    if (this.state !== "failed") this.state = "released";
    this.queue.clear();
    this.batchesQueued = 0;
  }

  /** @internal The credit owed to the sender, reset to zero (the connection is announcing it). */
  takeCredit(): number {
    const credit = this.state === "requested" ? this.owedCredit : 0;
    this.owedCredit = 0;
    return credit;
  }

  /** @internal The receiver id on the connection. */
  get id(): number {
    return this.receiverId;
  }

  /** @internal An element arrived from the sender. */
  receive(element: StreamElement, backlog: number): void {
    if (this.state !== "requested") return; // released while frames were in flight
    if (element.kind === "batch") {
      if (this.batchesQueued >= this.buffersPerChannel) {
        this.fail(new WeirError("WEIR_E_PROTOCOL", `${this.description}: sender exceeded its credit of ${this.buffersPerChannel} batches`));
        return;
      }
      this.batchesQueued++;
      this.lastBacklog = backlog;
    }
    this.queue.push(element);
    if (this.queue.length === 1) this.listener?.onAvailable();
  }

  /** @internal The request failed (error response, lost connection, undecodable data). */
  fail(error: WeirError): void {
    if (this.state !== "requested" && this.state !== "created") return;
    this.state = "failed";
    this.queue.clear();
    this.batchesQueued = 0;
    this.connection?.unregister(this.receiverId);
    this.listener?.onError(error);
  }
}
