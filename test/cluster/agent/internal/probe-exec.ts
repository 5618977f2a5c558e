/** Runs one probe action (I/O edge of probe.ts): true = success. */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { ProbeAction } from "./probe.js";

/** Runs an http or tcp probe from the host, or an exec probe through `exec`. */
export function runProbe(a: ProbeAction, timeoutMs: number, exec: (cmd: readonly string[], timeoutMs: number) => Promise<number>): Promise<boolean> {
  switch (a.kind) {
    case "exec": return exec(a.command, timeoutMs).then((code) => code === 0);
    case "tcp": return tcpProbe(a.host, a.port, timeoutMs);
    case "http": return httpProbe(a.url, a.headers, timeoutMs);
  }
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.on("connect", () => done(true));
    s.on("timeout", () => done(false));
    s.on("error", () => done(false));
  });
}

function httpProbe(url: string, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
  const mod = url.startsWith("https:") ? https : http;
  return new Promise((resolve) => {
    const req = mod.get(url, { headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400);
    });
    req.on("timeout", () => { req.destroy(); resolve(false); });
    req.on("error", () => resolve(false));
  });
}
