import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/history/sqlite-store.js";

/** Checks of the SQLite store alone; what every store does is in store-contract.test.ts. */
describe("the SQLite store", () => {
  it("keeps files off-limits to others, in a setgid directory", async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), "kc-history-")), "state");
    const store = await openSqliteStore(dir);
    try {
      const { lease } = await store.acquireLease("hello", {
        owner: "alice@deploy-1",
        host: "deploy-1",
        pid: process.pid,
        ttlMs: 60_000,
      });
      await store.startRun(
        {
          id: "r1",
          app: "hello",
          command: "create",
          who: "alice@deploy-1",
          version: "abc",
          colour: "blue",
          planHash: null,
          startedAt: 1,
        },
        { app: "hello", token: lease.token },
      );
      expect(statSync(dir).mode & 0o7777).toBe(0o2770);
      for (const f of ["kubecontrol.db", "kubecontrol.db-wal", "kubecontrol.db-shm"]) {
        expect((statSync(path.join(dir, f)).mode & 0o777).toString(8), f).toBe("660");
      }
    } finally {
      await store.close();
    }
  });
});
