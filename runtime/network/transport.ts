/**
 * TCP between TaskManagers: one DataServer per TaskManager serves its partitions; one ConnectionManager
 * per TaskManager keeps a single multiplexed connection per remote TaskManager for all its channels.
 * Addresses are always given by the caller (`host:port`, IPv6 as `[::1]:port`).
 */
import net from "node:net";
import { WeirError } from "../common/errors.js";
import { ClientConnection } from "./client-connection.js";
import { DEFAULT_PARTITION_REQUEST_TIMEOUT_MS, type PartitionManager } from "./partition-manager.js";
import { RemoteInputChannel, type ConnectionProvider, type RemoteChannelOptions } from "./remote-channel.js";
import { ServerConnection } from "./server-connection.js";

/** Socket write buffer above which the send loop waits for 'drain' (Node's default is 16 KiB). */
export const DEFAULT_SOCKET_HIGH_WATER_MARK = 256 * 1024;
/** Default time to establish a data connection. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** A `host:port` pair. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parse `host:port` or `[v6]:port`; throws WEIR_E_CONFIG naming the bad address. */
export function parseAddress(address: string): HostPort {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (colon <= 0 || host === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new WeirError("WEIR_E_CONFIG", `data address "${address}" is not host:port`);
  }
  return { host, port };
}

/** Format a host and port as an address string, bracketing IPv6 hosts. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** How to run a DataServer. */
export interface DataServerOptions {
  /** Interface to bind, e.g. the pod IP or "0.0.0.0"; never assumed. */
  readonly host: string;
  /** Port; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** How long a request waits for its partition to be registered; default 30 s. */
  readonly partitionRequestTimeoutMs?: number;
  /** Socket write buffer bound before waiting for 'drain'; default 256 KiB. */
  readonly socketHighWaterMark?: number;
}

/** The TCP endpoint serving this TaskManager's partitions to remote consumers. */
export class DataServer {
  private readonly server: net.Server;
  private readonly connections = new Set<ServerConnection>();
  private boundAddress: string | null = null;

  constructor(
    private readonly partitions: PartitionManager,
    private readonly options: DataServerOptions,
  ) {
    const requestTimeout = options.partitionRequestTimeoutMs ?? DEFAULT_PARTITION_REQUEST_TIMEOUT_MS;
    const highWaterMark = options.socketHighWaterMark ?? DEFAULT_SOCKET_HIGH_WATER_MARK;
    this.server = net.createServer({ highWaterMark }, (socket) => {
      const connection = new ServerConnection(socket, this.partitions, requestTimeout, (c) => this.connections.delete(c));
      this.connections.add(connection);
    });
  }

  /** Bind and listen; resolves with the address consumers should use (`host:port`). */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port ?? 0, this.options.host, () => {
        this.server.off("error", reject);
        const bound = this.server.address() as net.AddressInfo;
        this.boundAddress = formatAddress(this.options.host, bound.port);
        resolve(this.boundAddress);
      });
    });
  }

  /** The address after `listen()` resolved. */
  get address(): string {
    if (this.boundAddress === null) throw new WeirError("WEIR_E_CONFIG", "DataServer.address read before listen() resolved");
    return this.boundAddress;
  }

  /** Number of open data connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stop accepting, close every connection (their consumers see a lost connection). */
  close(): Promise<void> {
    for (const connection of [...this.connections]) connection.close("DataServer closed");
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** How to run a ConnectionManager. */
export interface ConnectionManagerOptions {
  /** Time allowed to establish a connection; default 10 s. */
  readonly connectTimeoutMs?: number;
}

/** One shared data connection per remote TaskManager, created on first use. */
export class ConnectionManager implements ConnectionProvider {
  private readonly connections = new Map<string, ClientConnection>();
  private readonly connectTimeoutMs: number;
  private closed = false;

  constructor(options: ConnectionManagerOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  /** A remote channel reading through this manager's connections (call `start` via its InputGate). */
  createRemoteChannel(options: RemoteChannelOptions): RemoteInputChannel {
    parseAddress(options.address); // reject a bad address when the task is built, not when it starts
    return new RemoteInputChannel(this, options);
  }

  /** The connection to `address`, connecting if there is none (a lost one is replaced). */
  connectionTo(address: string): ClientConnection {
    if (this.closed) throw new WeirError("WEIR_E_CANCELED", `ConnectionManager is closed; cannot connect to ${address}`);
    let connection = this.connections.get(address);
    if (connection === undefined) {
      const { host, port } = parseAddress(address);
      connection = new ClientConnection(address, host, port, this.connectTimeoutMs, (c) => this.forget(c));
      this.connections.set(address, connection);
    }
    return connection;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Close every connection; channels still reading fail with WEIR_E_CANCELED. */
  close(): void {
    this.closed = true;
    for (const connection of [...this.connections.values()]) {
      connection.close(new WeirError("WEIR_E_CANCELED", `data connection to TaskManager ${connection.address} closed locally`));
    }
  }

  private forget(connection: ClientConnection): void {
    if (this.connections.get(connection.address) === connection) this.connections.delete(connection.address);
  }
}
