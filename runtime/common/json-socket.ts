/**
 * Newline-delimited JSON messages over a TCP socket: the control channel between JobManager and
 * TaskManagers (small, infrequent messages; records never travel here).
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";

export class JsonSocket<In, Out> extends EventEmitter<{ message: [In]; close: [Error | null] }> {
  private buffered = "";
  private closed = false;

  constructor(readonly socket: Socket) {
    super();
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("error", (err) => this.finish(err));
    socket.on("close", () => this.finish(null));
  }

  get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  send(message: Out): void {
    if (this.closed) return;
    this.socket.write(JSON.stringify(message) + "\n");
  }

  close(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (!line) continue;
      let msg: In;
      try {
        msg = JSON.parse(line) as In;
      } catch {
        this.finish(new Error(`malformed control message from ${this.remote}`));
        this.socket.destroy();
        return;
      }
      this.emit("message", msg);
    }
  }

  private finish(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("close", err);
  }
}
