/**
 * The producer side of one accepted data connection. Each PartitionRequest attaches a
 * SubpartitionSender to a local subpartition; senders with data and credit wait in a ready ring and
 * are served round robin by one send loop, which serializes lazily (only what it sends), corks the
 * socket so a loop's frames leave in one write, and stops when the socket reports backpressure.
 */
import type net from "node:net";
import type { StreamElement } from "../common/elements.js";
import { WeirError } from "../common/errors.js";
import { decodeMessage, encodeData, encodeErrorResponse, FrameDecoder, KEEPALIVE_MS, type Message } from "./framing.js";
import type { PartitionManager } from "./partition-manager.js";
import { RingQueue } from "./ring-queue.js";
import type { Subpartition, SubpartitionConsumer } from "./subpartition.js";

/** Streams one subpartition to one remote channel, within the channel's credit. */
class SubpartitionSender implements SubpartitionConsumer {
  inReady = false;
  removed = false;

  constructor(
    private readonly connection: ServerConnection,
    readonly subpartition: Subpartition,
    readonly receiverId: number,
    public credit: number,
  ) {}

  /** True if the next element may go out now: an event, or a batch while credit lasts. */
  canSend(): boolean {
    const next = this.subpartition.peek();
    return next !== undefined && (next.kind !== "batch" || this.credit > 0);
  }

  /** Take the next sendable element, spending credit for a batch. */
  next(): StreamElement | undefined {
    if (!this.canSend()) return undefined;
    const element = this.subpartition.poll()!;
    if (element.kind === "batch") this.credit--;
    return element;
  }

  onDataAvailable(): void {
    this.connection.markReady(this);
  }

  onFailure(error: WeirError): void {
    this.connection.failSender(this, error);
  }
}

/** Serves partition requests arriving on one socket. */
export class ServerConnection {
  private readonly senders = new Map<number, SubpartitionSender>();
  private readonly pending = new Map<number, AbortController>();
  private readonly ready = new RingQueue<SubpartitionSender>();
  private readonly decoder = new FrameDecoder((body) => this.onMessage(decodeMessage(body)));
  private readonly peer: string;
  private sendScheduled = false;
  private waitingForDrain = false;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly partitions: PartitionManager,
    private readonly requestTimeoutMs: number,
    private readonly onClosed: (connection: ServerConnection) => void,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => this.onDrain());
    socket.on("error", (err) => this.close(err.message));
    socket.on("close", () => this.close("connection closed"));
  }

  /** Close the socket and detach every sender; their partitions learn that a consumer was lost. */
  close(detail: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const request of this.pending.values()) request.abort();
    this.pending.clear();
    const error = new WeirError("WEIR_E_CONNECTION_LOST", `data connection from ${this.peer} lost: ${detail}`);
    for (const sender of this.senders.values()) {
      sender.removed = true;
      sender.subpartition.consumerLost(sender, error);
    }
    this.senders.clear();
    this.onClosed(this);
  }

  /** @internal A sender may have something to send. */
  markReady(sender: SubpartitionSender): void {
    if (sender.inReady || sender.removed || !sender.canSend()) return;
    sender.inReady = true;
    this.ready.push(sender);
    this.scheduleSend();
  }

  /** @internal The subpartition failed: tell the remote channel and forget the sender. */
  failSender(sender: SubpartitionSender, error: WeirError): void {
    this.removeSender(sender);
    this.writeError(sender.receiverId, error);
  }

  private onData(chunk: Buffer): void {
    try {
      this.decoder.push(chunk);
    } catch (err) {
      this.close(`protocol error: ${(err as Error).message}`);
    }
  }

  private onMessage(message: Message): void {
    switch (message.kind) {
      case "partitionRequest":
        void this.handleRequest(message);
        return;
      case "addCredit":
        for (const grant of message.grants) this.addCredit(grant.receiverId, grant.credit);
        return;
      case "cancelRequest":
        this.cancel(message.receiverId);
        return;
      default:
        throw new WeirError("WEIR_E_PROTOCOL", `unexpected ${message.kind} message from ${this.peer}`);
    }
  }

  private async handleRequest(request: Extract<Message, { kind: "partitionRequest" }>): Promise<void> {
    const { receiverId, partitionId, subpartition: index } = request;
    const abort = new AbortController();
    this.pending.set(receiverId, abort);
    let subpartition: Subpartition | undefined;
    try {
      const partition = await this.partitions.waitFor(partitionId, this.requestTimeoutMs, abort.signal);
      subpartition = partition.subpartitions[index];
      if (subpartition === undefined) {
        throw new WeirError("WEIR_E_NOT_FOUND", `partition ${partitionId} has no subpartition ${index}`);
      }
    } catch (err) {
      if (!abort.signal.aborted) this.writeError(receiverId, err as Error);
      return;
    } finally {
      this.pending.delete(receiverId);
    }
    if (!abort.signal.aborted) this.attach(subpartition, receiverId, request.credit);
  }

  private attach(subpartition: Subpartition, receiverId: number, credit: number): void {
    const sender = new SubpartitionSender(this, subpartition, receiverId, credit);
    this.senders.set(receiverId, sender);
    try {
      subpartition.setConsumer(sender);
    } catch (err) {
      this.senders.delete(receiverId);
      this.writeError(receiverId, err as Error);
    }
  }

  private addCredit(receiverId: number, credit: number): void {
    const sender = this.senders.get(receiverId);
    if (sender === undefined) return; // finished or cancelled meanwhile
    sender.credit += credit;
    this.markReady(sender);
  }

  private cancel(receiverId: number): void {
    this.pending.get(receiverId)?.abort();
    const sender = this.senders.get(receiverId);
    if (sender !== undefined) this.removeSender(sender);
  }

  private removeSender(sender: SubpartitionSender): void {
    sender.removed = true;
    this.senders.delete(sender.receiverId);
    sender.subpartition.releaseConsumer(sender);
  }

  /** Back to the ready ring from inside the send loop (which is running, so no scheduling). */
  private requeue(sender: SubpartitionSender): void {
    sender.inReady = true;
    this.ready.push(sender);
  }

  private scheduleSend(): void {
    if (this.sendScheduled || this.waitingForDrain || this.closed) return;
    this.sendScheduled = true;
    queueMicrotask(() => this.sendLoop());
  }

  private onDrain(): void {
    this.waitingForDrain = false;
    if (this.ready.length > 0) this.scheduleSend();
  }

  /** Send round robin until no sender can send or the socket asks us to wait for 'drain'. */
  private sendLoop(): void {
    this.sendScheduled = false;
    if (this.waitingForDrain || this.closed) return;
    this.socket.cork();
    try {
      while (this.ready.length > 0 && !this.waitingForDrain) this.sendOne(this.ready.shift()!);
    } finally {
      this.socket.uncork();
    }
  }

  private sendOne(sender: SubpartitionSender): void {
    sender.inReady = false;
    if (sender.removed) return;
    const element = sender.next();
    if (element === undefined) return;
    let frame: Buffer;
    try {
      frame = encodeData(sender.receiverId, sender.subpartition.queuedBatches, element);
    } catch (err) {
      this.unserializable(sender, err);
      return;
    }
    if (element.kind === "end") this.removeSender(sender); // the subpartition is consumed
    else if (sender.canSend()) this.requeue(sender);
    if (!this.socket.write(frame)) this.waitingForDrain = true;
  }

  private unserializable(sender: SubpartitionSender, err: unknown): void {
    const error = new WeirError(
      "WEIR_E_PROTOCOL",
      `${sender.subpartition.describe()}: cannot serialize a record for the network: ${(err as Error).message}`,
      { cause: err },
    );
    sender.subpartition.consumerLost(sender, error); // before removal, which detaches the sender
    this.removeSender(sender);
    this.writeError(sender.receiverId, error);
  }

  private writeError(receiverId: number, error: Error): void {
    if (this.closed) return;
    const code = error instanceof WeirError ? error.code : "WEIR_E_PARTITION_FAILED";
    this.socket.write(encodeErrorResponse(receiverId, code, error.message));
  }
}

