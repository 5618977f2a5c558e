/** CheckpointStorage on the local (or a mounted shared) file system. */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { CheckpointStorage } from "../checkpoint-storage.js";
import { checkRange, checkRangeLength, fileMissing, storageFailed, type ByteRange } from "./storage-errors.js";
import { formatUrl, parseUrl } from "./urls.js";

const isCode = (e: unknown, code: string) => (e as NodeJS.ErrnoException | null)?.code === code;

function pathOf(url: string): string {
  const u = parseUrl(url);
  if (u.scheme !== "file") throw new TypeError(`FileStorage cannot handle ${url}`);
  return u.path;
}

const urlOf = (path: string) => formatUrl({ scheme: "file", authority: "", path });

/** Files under absolute paths; a file URL's path is used literally. */
export class FileStorage implements CheckpointStorage {
  async write(url: string, data: Uint8Array): Promise<void> {
    const path = pathOf(url);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data);
    } catch (e) {
      throw storageFailed("write", url, e);
    }
  }

  async writeAtomic(url: string, data: Uint8Array): Promise<void> {
    const path = pathOf(url);
    // A temp name in the same directory, so rename is atomic; fsync before rename so a crash cannot
    // leave the new name pointing at unwritten blocks, and fsync the directory to persist the rename.
    const tmp = `${path}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      await mkdir(dirname(path), { recursive: true });
      const fh = await open(tmp, "w");
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      await syncDirectory(dirname(path));
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw storageFailed("write", url, e);
    }
  }

  async read(url: string, range?: ByteRange): Promise<Buffer> {
    const path = pathOf(url);
    if (range) checkRange(url, range);
    try {
      if (!range) return await readFile(path);
      const fh = await open(path, "r");
      try {
        const buf = Buffer.alloc(range.end - range.start);
        const { bytesRead } = await fh.read(buf, 0, buf.length, range.start);
        checkRangeLength(url, range, bytesRead);
        return buf;
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw isCode(e, "ENOENT") ? fileMissing(url, e) : storageFailed("read", url, e);
    }
  }

  async stat(url: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(pathOf(url));
      return s.isFile() ? { size: s.size } : null;
    } catch (e) {
      if (isCode(e, "ENOENT") || isCode(e, "ENOTDIR")) return null;
      throw storageFailed("stat", url, e);
    }
  }

  async delete(url: string): Promise<void> {
    try {
      await unlink(pathOf(url));
    } catch (e) {
      if (!isCode(e, "ENOENT")) throw storageFailed("delete", url, e);
    }
  }

  async deleteDirectory(dirUrl: string): Promise<void> {
    try {
      await rm(pathOf(dirUrl), { recursive: true, force: true });
    } catch (e) {
      throw storageFailed("delete directory", dirUrl, e);
    }
  }

  async list(dirUrl: string): Promise<string[]> {
    try {
      return (await listFiles(pathOf(dirUrl))).sort().map(urlOf);
    } catch (e) {
      throw storageFailed("list", dirUrl, e);
    }
  }
}

async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (isCode(e, "ENOENT") || isCode(e, "ENOTDIR")) return [];
    throw e;
  }
  const nested = await Promise.all(entries.map(async (e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p) : e.isFile() ? [p] : [];
  }));
  return nested.flat();
}

/** Persist a rename. Some file systems refuse fsync on a directory; durability there is the OS's default. */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } catch {
    // EINVAL/EISDIR on file systems without directory fsync: nothing more we can do.
  } finally {
    await fh.close();
  }
}
