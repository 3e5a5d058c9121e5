import type { Command } from "commander";
import { action } from "../run-action.js";

export interface UpdateFlags {
  version?: string;
  drain?: string;
  keepOld: boolean;
  adopt?: boolean;
  dryRun: boolean;
  yes: boolean;
  waitLock?: string;
}

/** Registers `kubecontrol update <app>`. Nothing heavy is imported until it runs. */
export function registerUpdateCommand(program: Command): void {
  program
    .command("update")
    .description(
      "blue/green update of <app>: build the idle colour at a version, verify it, switch DNS to it, remove the old colour",
    )
    .argument("[apps...]", "the app's name (several: each updated at once, at most --parallel)")
    .option("--all", "every app in the apps directory", false)
    .option("--parallel <n>", "with several apps: how many are updated at once", "3")
    .option("--version <commit-ish>", "code version (default: HEAD of the app's source)")
    .option(
      "--drain <duration>",
      'wait this long ("90s", "5m") after the DNS switch, then remove the old colour, even when the spec keeps it (default: how long resolvers may cache the record: config resolverCache, the record\'s TTL unless set)',
    )
    .option(
      "--keep-old",
      "leave the old colour in place at DNS weight 0 with no expiry (switch back to it, or remove it with teardown; gc never does)",
      false,
    )
    .option("--dry-run", "preflight and checks only: say what would change, change nothing", false)
    .option(
      "--adopt",
      "take over resources found by name that have no kubecontrol tags (never another app's); recorded in their tags and in history",
      false,
    )
    .option(
      "--yes",
      "do not ask for confirmation (needed without a terminal: the old colour is removed)",
      false,
    )
    .option("--wait-lock <duration>", 'wait up to this long ("10m") for another run on the app to finish')
    .addHelpText(
      "after",
      `
The colour DNS points at (weight > 0) is live; the other is idle. update takes the app's lease,
records the run in history, and:
  1. builds the idle colour at the version as create does (AWS stack and image at once,
     Kubernetes objects, healthy load balancer targets), its DNS record untouched;
  2. switches DNS in one Route 53 change (idle colour weight 100, live colour 0: never a
     moment without weight) and waits until the change is INSYNC; with deploy.dnsSteps
     (e.g. [10, 50, 100]) it moves the weights in those steps, each in one change, and at each
     share below 100 waits how long resolvers may cache the record (config resolverCache, the
     record's TTL unless set) and judges the new colour again (workloads, targets, checks,
     hook): a failed judgement puts all of DNS back on the old colour in one change (exit 7);
  3. when the spec sets deploy.keepOldColourFor, marks the old colour kept until then (a tag on
     its cluster) and ends: \`kubecontrol switch\` moves traffic back to it while it stands, and
     \`kubecontrol gc\` removes it once the time has passed; nothing sleeps holding the lease.
     Otherwise it waits out the drain and tears the old colour down (--keep-old: kept with no
     expiry).
A failed verification leaves DNS untouched and the new colour in place for inspection (exit 7;
the hint says how to remove it). Without a live colour it exits 8: create the app first.

Running it again is safe. The version a colour runs is read from its Deployments (their
kubecontrol.io/version annotation and the commit in the app image's tag). When the live colour already runs the version, update only finishes
what is left (the switch, the old colour's teardown), so a run killed after the DNS switch is
finished by running it again, with no new deployment. An idle colour left by an earlier,
failed update at another version is not removed first: it is re-planned at the new version and
each resource converges through its check (existing resources are kept or corrected, the
Kubernetes objects roll to the new image), which is faster than rebuilding and ends the same.

Several apps (more than one named, or --all) are updated at once, at most --parallel, each
under its own lease and history record: one line per app on a terminal, each event with its
"app" with --json, then a table app → result. Exit code: 0 when all succeeded, the failed
apps' code when they share one (7: only verifications failed), else 11.

Examples:
  kubecontrol update hello --version 3f9c2e1 --yes
  kubecontrol update --all --parallel 4 --yes
  kubecontrol update hello webapp --yes
  kubecontrol update webapp --version v1.4.0 --dry-run
  kubecontrol update webapp --keep-old --drain 5m --yes
  kubecontrol --json update hello --yes --wait-lock 10m`,
    )
    .action(action(async (cmd, apps: string[]) => updateApps(cmd, apps)));
}

/** `kubecontrol update <app...>|--all`: one app as ever; several at once, bounded by --parallel. */
async function updateApps(cmd: Command, names: string[]): Promise<number> {
  const many = await import("../many-apps.js");
  const o = cmd.opts<UpdateFlags & { all?: boolean; parallel: string }>();
  if (!many.wantsManyApps(names, o.all)) return updateCommand(cmd, names[0]!);
  return many.runForApps(cmd, {
    command: "update",
    names,
    all: o.all === true,
    parallel: o.parallel,
    yes: o.yes,
    dryRun: o.dryRun,
    destructive: !o.keepOld,
    question: (apps) =>
      `update ${apps.length} apps (${apps.join(", ")}): build each one's idle colour, switch DNS to it${o.keepOld ? "" : " and remove the old colour"}?`,
    one: (app, host) => updateCommand(cmd, app, { ...o, yes: true }, host),
  });
}

/** `kubecontrol update <app>` (also run by `resume` with the flags of the run it continues). */
export async function updateCommand(
  cmd: Command,
  name: string,
  flags?: UpdateFlags,
  host?: import("../many-apps.js").AppHost,
): Promise<number> {
  const started = Date.now();
  const [{ commandSetup }, { loadApp }, run, wf, { parseDuration }, errors, { formatAge }] =
    await Promise.all([
      import("../load.js"),
      import("../../spec/loader.js"),
      import("../deploy-run.js"),
      import("../../engine/workflows/update.js"),
      import("../../spec/primitives.js"),
      import("../../errors.js"),
      import("../../io/format.js"),
    ]);
  const o = flags ?? cmd.opts<UpdateFlags>();
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const { app, file } = await loadApp(appsDir, name, loadOptions);
  // The old colour is not removed before resolvers may have forgotten it; the spec may keep it
  // longer: then the run ends after the switch and gc removes it later. --drain removes it now.
  // The same wait comes at each of deploy.dnsSteps.
  let { drainSeconds, keepSeconds } = await run.oldColourTiming(config, app);
  const cachedSeconds = drainSeconds;
  if (o.drain !== undefined) {
    const parsed = parseDuration(o.drain);
    if (parsed === undefined)
      throw new errors.KubecontrolError(
        "USAGE",
        `--drain: expected a duration such as "0s", "90s" or "5m", found "${o.drain}"`,
      );
    drainSeconds = parsed;
    keepSeconds = 0;
  }
  const removesOld = !o.keepOld && keepSeconds === 0;
  const progress = host?.progress ?? run.progressFor(cmd);
  const question = o.dryRun
    ? undefined
    : `update ${app.name}: build the idle colour, switch DNS to it${removesOld ? " and remove the old colour" : ""}?`;
  const outcome = await run.withDeployRun(
    progress,
    config,
    {
      ...(question ? { question } : {}),
      yes: o.yes,
      waitLock: o.waitLock,
      destructive: removesOld,
      notify: o.dryRun ? undefined : { app: app.name, command: "update" },
    },
    async (ctx) =>
      wf.updateApp({
        app,
        version: o.version,
        ...(await run.colourBuildInputs(config, app, appsDir, file)),
        dryRun: o.dryRun,
        keepOld: o.keepOld,
        keepForMs: keepSeconds * 1000,
        adopt: o.adopt === true,
        drainMs: drainSeconds * 1000,
        shiftWindowMs: cachedSeconds * 1000,
        stack: run.teardownOptionsFor(config),
        ...ctx,
      }),
    host?.shared,
  );
  const d = outcome.decision;
  const version = outcome.version.slice(0, 12);
  if (outcome.dryRun)
    return run.sayDryRun(progress, {
      command: "update",
      app: app.name,
      what: `to ${version}, ${d.live} live, ${d.target} would serve`,
      more: { ...d, version: outcome.version },
      findings: outcome.dryRun,
      startedAt: started,
      nothing: "everything is in place: update would change nothing",
    });
  const keep = outcome.keep;
  const removed = keep === undefined;
  const keptFor = !keep
    ? ""
    : "forever" in keep
      ? `, ${d.old} kept at weight 0 (remove it with teardown)`
      : `, ${d.old} kept at weight 0 for ${formatAge(keep.forMs)} (then kubecontrol gc removes it)`;
  const verdict =
    outcome.result === "no-op"
      ? `already at ${version} with all of DNS, nothing changed`
      : d.mode === "deploy"
        ? `updated to ${version}: ${d.target} has all of DNS (was ${d.live})${removed ? `, ${d.old} removed` : keptFor}`
        : `already at ${version}: finished the earlier update${removed ? `, ${d.old} removed` : keptFor}`;
  run.sayRunSummary(progress, {
    app: app.name,
    colour: d.target,
    runId: outcome.runId,
    result: outcome.result,
    changed: outcome.changed,
    report: outcome.report,
    verdict,
    next: [
      `kubecontrol history ${app.name}`,
      `kubecontrol kubeconfig ${app.name} --colour ${d.target}`,
      ...(keep ? [`kubecontrol switch ${app.name} --to ${d.old}`] : []),
      ...(keep && "forever" in keep ? [`kubecontrol teardown ${app.name} --colour ${d.old}`] : []),
      ...(keep && "forMs" in keep ? [`kubecontrol gc ${app.name}`] : []),
    ],
    startedAt: started,
    extra: {
      version: outcome.version,
      mode: d.mode,
      previous: d.live,
      old: d.old,
      oldRemoved: removed,
      ...(keep && "forMs" in keep ? { oldKeptForMs: keep.forMs } : {}),
      ...(keep && "forever" in keep ? { oldKept: true } : {}),
    },
  });
  return 0;
}
