/**
 * Makes the apiserver reachable inside a pod at `127.0.0.1:<port>`, an address its serving
 * certificate already names, without iptables: a short-lived child process enters the pod's network
 * namespace, opens a listening socket there and hands it to the agent over Node's IPC channel; the
 * agent accepts on it and pipes each connection to the apiserver on the host.
 */
import { spawn } from "node:child_process";
import net from "node:net";

/** A listener inside a pod's network namespace forwarding to the apiserver. */
export interface ApiProxy {
  close(): void;
}

const CHILD = `const net=require('net');const s=net.createServer();s.on('error',e=>{console.error(e.message);process.exit(1)});
s.listen(Number(process.env.WEIR_PROXY_PORT),'127.0.0.1',()=>process.send('ok',s,()=>process.exit(0)));`;

/** Opens the listener in `netns` on `listenPort` and forwards to `target`. */
export function openApiProxy(netns: string, listenPort: number, target: { host: string; port: number }): Promise<ApiProxy> {
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", [`--net=/run/netns/${netns}`, process.execPath, "-e", CHILD], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, WEIR_PROXY_PORT: String(listenPort), NODE_OPTIONS: "" },
    });
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr += String(d)));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`apiserver proxy in ${netns} failed (exit ${code}): ${stderr.trim()}`));
    });
    child.on("message", (_m, handle) => {
      const server = handle as net.Server;
      const sockets = new Set<net.Socket>();
      server.on("connection", (s) => {
        const up = net.connect(target.port, target.host);
        sockets.add(s);
        s.pipe(up).pipe(s);
        const end = () => { s.destroy(); up.destroy(); sockets.delete(s); };
        s.on("error", end); up.on("error", end); s.on("close", end); up.on("close", end);
      });
      resolve({ close: () => { server.close(); for (const s of sockets) s.destroy(); } });
    });
  });
}
