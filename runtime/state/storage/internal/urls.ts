/**
 * Storage URLs: `file:///abs/path` and `s3://bucket/key`. A plain absolute path (`/tmp/x`) is taken as a
 * file URL. Paths are literal, not percent-encoded (`file:///a b` is the path "/a b", as with S3 keys),
 * and `.`/`..`/repeated slashes are normalized away, so equal locations are equal strings (reference
 * counting compares URLs as strings).
 */
import { posix } from "node:path";
import { WeirError } from "../../../common/errors.js";

/** The schemes checkpoint storage understands. */
export const SUPPORTED_SCHEMES = ["file", "s3"] as const;

/** A URL split into its parts; `path` starts with "/" ("/" alone is the root of the file system or bucket). */
export interface ParsedUrl {
  scheme: string;
  /** Empty for file URLs, the bucket for s3. */
  authority: string;
  path: string;
}

const URL_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)(.*)$/;

/** Split a URL or absolute path; refuses a relative path and a file URL naming a host. */
export function parseUrl(url: string): ParsedUrl {
  if (url.startsWith("/")) return { scheme: "file", authority: "", path: cleanPath(url) };
  const m = URL_RE.exec(url);
  if (!m) {
    throw new WeirError("WEIR_E_CONFIG", `"${url}" is neither an absolute path nor a URL like file:///dir or s3://bucket/prefix`);
  }
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  if (scheme === "file" && authority !== "" && authority !== "localhost") {
    throw new WeirError("WEIR_E_CONFIG", `"${url}": file URLs cannot name a host (use file:///path)`);
  }
  return { scheme, authority: scheme === "file" ? "" : authority, path: cleanPath(m[3] || "/") };
}

function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** Back to a string; `formatUrl(parseUrl(u))` is the normal form of `u`. */
export function formatUrl(u: ParsedUrl): string {
  return `${u.scheme}://${u.authority}${u.path}`;
}

/** The normal form of a URL or absolute path (`/tmp/x/` -> `file:///tmp/x`). */
export function normalizeUrl(url: string): string {
  return formatUrl(parseUrl(url));
}

/** `dir` joined with path segments (which may themselves contain "/"). */
export function joinUrl(dir: string, ...names: string[]): string {
  const u = parseUrl(dir);
  return formatUrl({ ...u, path: cleanPath(posix.join(u.path, ...names)) });
}

/** The directory holding `url`. */
export function parentUrl(url: string): string {
  const u = parseUrl(url);
  return formatUrl({ ...u, path: posix.dirname(u.path) });
}

/** The last path segment of `url`. */
export function baseName(url: string): string {
  return posix.basename(parseUrl(url).path);
}

/** `to` relative to directory `fromDir`, or `to` itself (normalized) when they are on different file systems/buckets. */
export function relativeUrl(fromDir: string, to: string): string {
  const from = parseUrl(fromDir);
  const target = parseUrl(to);
  if (from.scheme !== target.scheme || from.authority !== target.authority) return formatUrl(target);
  return posix.relative(from.path, target.path) || ".";
}

/** Whether `ref` is already absolute (a URL or an absolute path) rather than relative to a directory. */
export function isAbsoluteUrl(ref: string): boolean {
  return ref.startsWith("/") || URL_RE.test(ref);
}

/** The inverse of `relativeUrl`: `rel` resolved against directory `fromDir`; absolute `rel` is returned normalized. */
export function resolveUrl(fromDir: string, rel: string): string {
  return isAbsoluteUrl(rel) ? normalizeUrl(rel) : joinUrl(fromDir, rel);
}

/** Whether `url` lies strictly below directory `dirUrl`. */
export function isBelow(dirUrl: string, url: string): boolean {
  const dir = parseUrl(dirUrl);
  const u = parseUrl(url);
  const prefix = dir.path === "/" ? "/" : dir.path + "/";
  return dir.scheme === u.scheme && dir.authority === u.authority && u.path.startsWith(prefix) && u.path !== dir.path;
}
