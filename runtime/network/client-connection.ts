/**
 * The consumer side of one TCP connection to a remote TaskManager, shared by every remote channel that
 * reads from it. Demultiplexes Data and ErrorResponse frames by receiver id, and announces credit for
 * all its channels in one AddCredit frame per microtask.
 */
import net from "node:net";
import { WeirError } from "../common/errors.js";
import {
  CONNECTION_ERROR,
  decodeMessage,
  encodeAddCredit,
  encodeCancelRequest,
  encodePartitionRequest,
  FrameDecoder,
  KEEPALIVE_MS,
  type CreditGrant,
  type Message,
} from "./framing.js";
import type { RemoteInputChannel } from "./remote-channel.js";
import { decodeElement } from "./serializer.js";

/** A connection to one remote DataServer. */
export class ClientConnection {
  private readonly socket: net.Socket;
  private readonly receivers = new Map<number, RemoteInputChannel>();
  private readonly decoder = new FrameDecoder((body) => this.onFrame(body));
  private nextReceiverId = 0;
  private creditDue: RemoteInputChannel[] = [];
  private creditFlushScheduled = false;
  private closedWith: WeirError | null = null;

  constructor(
    readonly address: string,
    host: string,
    port: number,
    connectTimeoutMs: number,
    private readonly onClosed: (connection: ClientConnection) => void,
  ) {
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true); // small control frames (credit) must not wait for Nagle
    this.socket.setKeepAlive(true, KEEPALIVE_MS); // notice a peer that vanished without a FIN
    this.socket.setTimeout(connectTimeoutMs, () => this.socket.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`)));
    this.socket.once("connect", () => this.socket.setTimeout(0));
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (err) => this.close(this.lost(err.message)));
    this.socket.on("close", () => this.close(this.lost("connection closed")));
  }

  /** Number of channels reading through this connection. */
  get channelCount(): number {
    return this.receivers.size;
  }

  /** Add a channel; returns its receiver id. A closed connection fails the channel at once. */
  register(channel: RemoteInputChannel): number {
    const id = this.nextReceiverId++;
    this.receivers.set(id, channel);
    if (this.closedWith !== null) queueMicrotask(() => channel.fail(this.closedWith!));
    return id;
  }

  /** Forget a channel that finished or failed (nothing is sent). */
  unregister(receiverId: number): void {
    this.receivers.delete(receiverId);
  }

  /** Ask the server for a subpartition with an initial credit. */
  requestPartition(receiverId: number, partitionId: string, subpartition: number, credit: number): void {
    this.write(encodePartitionRequest(receiverId, partitionId, subpartition, credit));
  }

  /** Stop a request: the server detaches the subpartition; late frames for it are dropped. */
  cancel(receiverId: number): void {
    if (!this.receivers.delete(receiverId)) return;
    this.write(encodeCancelRequest(receiverId));
  }

  /** Announce `channel`'s owed credit soon, together with other channels' credit. */
  scheduleCredit(channel: RemoteInputChannel): void {
    if (!channel.creditScheduled) {
      channel.creditScheduled = true;
      this.creditDue.push(channel);
    }
    if (this.creditFlushScheduled) return;
    this.creditFlushScheduled = true;
    queueMicrotask(() => this.flushCredit());
  }

  /** Close the socket; every channel still on it fails with `reason`. */
  close(reason: WeirError): void {
    if (this.closedWith !== null) return;
    this.closedWith = reason;
    this.socket.destroy();
    const channels = [...this.receivers.values()];
    this.receivers.clear();
    for (const channel of channels) channel.fail(reason);
    this.onClosed(this);
  }

  private flushCredit(): void {
    this.creditFlushScheduled = false;
    const due = this.creditDue;
    this.creditDue = [];
    const grants: CreditGrant[] = [];
    for (const channel of due) {
      channel.creditScheduled = false;
      const credit = channel.takeCredit();
      if (credit > 0 && this.receivers.has(channel.id)) grants.push({ receiverId: channel.id, credit });
    }
    if (grants.length > 0) this.write(encodeAddCredit(grants));
  }

  private write(frame: Buffer): void {
    if (this.closedWith === null) this.socket.write(frame); // control frames are tiny; credit bounds data
  }

  private onData(chunk: Buffer): void {
    try {
      this.decoder.push(chunk);
    } catch (err) {
      this.close(this.lost(`protocol error: ${(err as Error).message}`));
    }
  }

  private onFrame(body: Buffer): void {
    const message = decodeMessage(body);
    if (message.kind === "data") this.onDataFrame(message);
    else if (message.kind === "errorResponse") this.onErrorResponse(message.receiverId, message.code, message.message);
    else throw new WeirError("WEIR_E_PROTOCOL", `unexpected ${message.kind} message from a DataServer`);
  }

  private onDataFrame(message: Extract<Message, { kind: "data" }>): void {
    const channel = this.receivers.get(message.receiverId);
    if (channel === undefined) return; // cancelled; frames already in flight
    try {
      channel.receive(decodeElement(message.payload), message.backlog);
    } catch (err) {
      const error = err as WeirError;
      channel.fail(new WeirError("WEIR_E_PROTOCOL", `${channel.description}: ${error.message}`, { cause: err }));
    }
  }

  private onErrorResponse(receiverId: number, code: WeirError["code"], message: string): void {
    if (receiverId === CONNECTION_ERROR) {
      this.close(new WeirError(code, `TaskManager ${this.address} closed the data connection: ${message}`));
      return;
    }
    const channel = this.receivers.get(receiverId);
    channel?.fail(new WeirError(code, `${channel.description}: ${message}`));
  }

  private lost(detail: string): WeirError {
    return new WeirError("WEIR_E_CONNECTION_LOST", `data connection to TaskManager ${this.address} lost: ${detail}`);
  }
}
