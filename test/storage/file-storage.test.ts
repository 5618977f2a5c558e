/** The storage contract on the local file system (file:// URLs and plain absolute paths). */
import { rmSync } from "node:fs";
import { afterAll } from "vitest";
import { resolveConfig } from "../../runtime/config/options.js";
import { storageFor } from "../../runtime/state/storage/checkpoint-storage.js";
import { tempDir } from "../support/cluster.js";
import { describeStorageContract } from "./storage-contract.js";

const dir = tempDir("file-storage");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStorageContract("file://", () => ({ storage: storageFor(`file://${dir}`, resolveConfig([], {})), base: `file://${dir}` }));
describeStorageContract("plain path", () => ({ storage: storageFor(dir, resolveConfig([], {})), base: dir }));
