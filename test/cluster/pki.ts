/**
 * Certificates for the local cluster, made with openssl (ECDSA P-256 leaves, RSA-2048 service-account key):
 *
 *   ca.crt/key           the one CA: signs the apiserver serving cert and every client cert; the apiserver's
 *                        --client-ca-file, KCM's --root-ca-file (published as kube-root-ca.crt)
 *   apiserver.crt/key    serving cert; SANs 127.0.0.1, 10.0.0.1 (the `kubernetes` Service IP), localhost,
 *                        kubernetes, kubernetes.default, kubernetes.default.svc(.cluster.local)
 *   admin.crt/key        CN=weir-admin, O=system:masters (the kubeconfig user)
 *   kcm.crt/key          CN=system:kube-controller-manager (bootstrap RBAC role of the same name)
 *   scheduler.crt/key    CN=system:kube-scheduler
 *   sa.key / sa.pub      service-account token signing key (apiserver signs, KCM signs legacy token secrets)
 *   front-proxy-ca.crt/key, front-proxy-client.crt/key
 *                        request-header authentication (aggregated APIs; KCM/scheduler read its CA from the
 *                        extension-apiserver-authentication ConfigMap and log errors every few seconds without it)
 *
 * Generated once per cluster directory and reused (ports do not appear in any certificate).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const SERVICE_CIDR = "10.0.0.0/24";
export const KUBERNETES_SERVICE_IP = "10.0.0.1";

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  saKey: string;
  saPub: string;
  frontProxyCaCert: string;
  frontProxyCaKey: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  clients: Record<ClientName, { cert: string; key: string; cn: string; org?: string }>;
}

export type ClientName = "admin" | "kcm" | "scheduler";

const CLIENTS: Record<ClientName, { cn: string; org?: string }> = {
  admin: { cn: "weir-admin", org: "system:masters" },
  kcm: { cn: "system:kube-controller-manager" },
  scheduler: { cn: "system:kube-scheduler" },
};

const DAYS = "825";

function openssl(cwd: string, args: string[]): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export function pkiPaths(dir: string): Pki {
  const clients = {} as Pki["clients"];
  for (const [name, subj] of Object.entries(CLIENTS) as [ClientName, { cn: string; org?: string }][]) {
    clients[name] = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), ...subj };
  }
  return {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    apiserverCert: join(dir, "apiserver.crt"),
    apiserverKey: join(dir, "apiserver.key"),
    saKey: join(dir, "sa.key"),
    saPub: join(dir, "sa.pub"),
    frontProxyCaCert: join(dir, "front-proxy-ca.crt"),
    frontProxyCaKey: join(dir, "front-proxy-ca.key"),
    frontProxyClientCert: join(dir, "front-proxy-client.crt"),
    frontProxyClientKey: join(dir, "front-proxy-client.key"),
    clients,
  };
}

function allFiles(p: Pki): string[] {
  return [p.caCert, p.caKey, p.apiserverCert, p.apiserverKey, p.saKey, p.saPub,
    p.frontProxyCaCert, p.frontProxyCaKey, p.frontProxyClientCert, p.frontProxyClientKey,
    ...Object.values(p.clients).flatMap((c) => [c.cert, c.key])];
}

function selfSignedCa(dir: string, name: string, cn: string): void {
  openssl(dir, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", DAYS, "-subj", `/CN=${cn}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"]);
}

function leaf(dir: string, name: string, subj: string, ext: string, ca = "ca"): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj]);
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial",
    "-days", DAYS, "-extfile", `${name}.ext`, "-out", `${name}.crt`]);
  rmSync(join(dir, `${name}.csr`));
  rmSync(join(dir, `${name}.ext`));
}

/** Creates the PKI in `dir` unless a complete one is already there. Returns the paths. */
export function ensurePki(dir: string): Pki {
  const p = pkiPaths(dir);
  if (allFiles(p).every((f) => existsSync(f))) return p;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  selfSignedCa(dir, "ca", "weir-local-cluster-ca");
  selfSignedCa(dir, "front-proxy-ca", "weir-local-front-proxy-ca");
  const sans = ["IP:127.0.0.1", `IP:${KUBERNETES_SERVICE_IP}`, "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"];
  leaf(dir, "apiserver", "/CN=kube-apiserver",
    `subjectAltName=${sans.join(",")}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  for (const [name, c] of Object.entries(CLIENTS)) {
    const subj = (c.org ? `/O=${c.org}` : "") + `/CN=${c.cn}`;
    leaf(dir, name, subj, "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n");
  }
  leaf(dir, "front-proxy-client", "/CN=front-proxy-client",
    "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n", "front-proxy-ca");
  openssl(dir, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key"]);
  openssl(dir, ["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
  for (const srl of ["ca.srl", "front-proxy-ca.srl"]) rmSync(join(dir, srl), { force: true });
  return p;
}

/** A kubeconfig (YAML) with embedded CA and client certificate for `user`. */
export function kubeconfigYaml(p: Pki, user: ClientName, server: string, contextName = "weir-local"): string {
  const b64 = (f: string) => readFileSync(f).toString("base64");
  const c = p.clients[user];
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${contextName}`,
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(p.caCert)}`,
    "users:",
    `- name: ${c.cn}`,
    "  user:",
    `    client-certificate-data: ${b64(c.cert)}`,
    `    client-key-data: ${b64(c.key)}`,
    "contexts:",
    `- name: ${contextName}`,
    "  context:",
    `    cluster: ${contextName}`,
    `    user: ${c.cn}`,
    "    namespace: default",
    `current-context: ${contextName}`,
    "",
  ].join("\n");
}
