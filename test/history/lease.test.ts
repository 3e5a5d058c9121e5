import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KubecontrolError } from "../../src/errors.js";
import { holdLease } from "../../src/history/lease.js";
import { openStore } from "../../src/history/open.js";
import type { HistoryStore } from "../../src/history/types.js";

// How a held lease behaves between renewals, against the SQLite store: it renews itself, survives
// a renewal the store does not answer, is lost at once when the store refuses (another run took
// over), and stops counting as held once this host's clock says it may have expired.

const stores: HistoryStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function store(): Promise<HistoryStore> {
  const s = await openStore({
    historyStore: "sqlite",
    stateDir: path.join(mkdtempSync(path.join(tmpdir(), "kc-lease-")), "state"),
  });
  stores.push(s);
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a held lease", () => {
  it("renews itself, three times per validity window", async () => {
    const s = await store();
    const held = await holdLease(s, "hello", { ttlMs: 1500, marginMs: 600 });
    const first = (await s.currentLease("hello"))!.expiresAt;
    await sleep(700);
    expect((await s.currentLease("hello"))!.expiresAt).toBeGreaterThan(first);
    expect(() => held.assertHeld()).not.toThrow();
    await held.release();
  });

  it("keeps the lease through a renewal the store did not answer, saying so", async () => {
    const s = await store();
    const renew = s.renewLease.bind(s);
    let failing = 1;
    s.renewLease = async (...args) => {
      // A fault of the store itself (it did not answer), as a dropped connection gives.
      if (failing-- > 0) throw new KubecontrolError("PREREQUISITE_MISSING", "cannot reach the history store");
      return renew(...args);
    };
    const warnings: number[] = [];
    let lost: KubecontrolError | undefined;
    const held = await holdLease(s, "hello", {
      ttlMs: 1500,
      marginMs: 600,
      onRenewalFailed: (_err, validForMs) => warnings.push(validForMs),
      onLost: (err) => {
        lost = err;
      },
    });
    // longer than the lease lives without renewals
    await sleep(2000);
    expect(warnings).toHaveLength(1);
    expect(lost).toBeUndefined();
    expect(() => held.assertHeld()).not.toThrow();
    await held.release();
  });

  it("is lost at once when a renewal is refused: another run holds it", async () => {
    const s = await store();
    let lost: KubecontrolError | undefined;
    const held = await holdLease(s, "hello", {
      ttlMs: 1500,
      marginMs: 600,
      onLost: (err) => {
        lost = err;
      },
    });
    // another run takes it over (as after an expiry)
    await s.acquireLease("hello", {
      owner: "bob@h",
      host: "h",
      pid: 1,
      ttlMs: 60_000,
      now: Date.now() + 10_000,
    });
    await sleep(500);
    expect(lost?.code).toBe("LOCKED");
    expect(() => held.assertHeld()).toThrow(/no longer holds the lease on hello/);
  });

  it("stops counting as held once this host's clock says it may have expired (a paused process)", async () => {
    const s = await store();
    let lost: KubecontrolError | undefined;
    const held = await holdLease(s, "hello", {
      ttlMs: 1500,
      marginMs: 600,
      onLost: (err) => {
        lost = err;
      },
    });
    // the event loop blocked past the validity window, as a SIGSTOP would
    const until = Date.now() + 1000;
    while (Date.now() < until) {}
    // the first thing that asks, before any timer has run, is refused
    expect(() => held.assertHeld()).toThrow(/can no longer prove it holds the lease on hello/);
    expect(lost?.code).toBe("LOCKED");
  });

  it("once released, refuses every change, and released only once the changes in flight are answered", async () => {
    const s = await store();
    const held = await holdLease(s, "hello", { ttlMs: 1500, marginMs: 600 });
    // a change passed the gate and is still out
    held.assertHeld();
    const done = held.inFlight();
    let released = false;
    const releasing = held.release().then(() => {
      released = true;
    });
    await sleep(100);
    // the gate is closed at once, and the lease stays held while the change is out
    expect(() => held.assertHeld()).toThrow(/has released its lease on hello/);
    expect(released).toBe(false);
    expect(await s.currentLease("hello")).toBeDefined();
    // when it is answered, the lease goes
    done();
    await releasing;
    expect(await s.currentLease("hello")).toBeUndefined();
  });

  it("refuses a lifetime that leaves no time to act", async () => {
    const s = await store();
    await expect(holdLease(s, "hello", { ttlMs: 1000, marginMs: 1000 })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
    });
  });
});
