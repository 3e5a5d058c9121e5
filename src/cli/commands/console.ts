import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { KubecontrolError } from "../../errors.js";
import { parseDuration } from "../../spec/primitives.js";
import { globalOptions } from "../context.js";
import { action } from "../run-action.js";

interface ConsoleFlags {
  port: string;
  host?: string;
  open?: boolean;
  snapshot?: string;
  allowActions?: boolean;
  parallel: string;
  cache: string;
  output: "text" | "json";
}

/** Registers `kubecontrol console`. Nothing heavy is imported until it runs. */
export function registerConsoleCommand(program: Command): void {
  program
    .command("console")
    .description(
      "the KubeApp Management Console: the fleet's live state and the shared history in a browser (read-only unless --allow-actions)",
    )
    .option("--port <port>", "port to listen on (0: any free one)", "4580")
    .option(
      "--host <name>",
      "listen on this address and accept it as Host, besides the loopback names (warns: anyone who can reach it and has the link can log in)",
    )
    .option("--open", "open the login link in the desktop's browser (through a private file, never argv)")
    .option(
      "--snapshot <file>",
      "show the fleet from a file that `kubecontrol status --all -o json` wrote, not read live (demos, benchmarks)",
    )
    .option(
      "--allow-actions",
      "enable switch (roll back) and breaking a stale lease, each confirmed by typing the app's name and recorded with who and why",
    )
    .option("--parallel <n>", "apps read live at once", "8")
    .option(
      "--cache <duration>",
      "how long a live read of the fleet serves every page before AWS is read again",
      "5s",
    )
    .addOption(
      new Option("-o, --output <format>", "how to print the login link")
        .choices(["text", "json"])
        .default("text"),
    )
    .addHelpText(
      "after",
      `
Serves 127.0.0.1 only unless --host. Prints a login link holding a token made at start (valid
while the console runs; a second browser, or one at the end of an SSH tunnel, can use it too):
opening it sets a session cookie and takes the token out of the address. Scripts may send the
token as "Authorization: Bearer <token>" to the JSON API under /api/v1. Stop it with Ctrl-C.

Pages: / (fleet; ?attention=1, ?health=degraded), /apps/<app>, /history (filters in the URL,
paged), /runs/<id> (live while it runs).

Examples:
  kubecontrol console
  ssh -L 4580:127.0.0.1:4580 deploy-host kubecontrol console    # then open the printed link here
  kubecontrol console --port 0 -o json                           # {"url": ..., "login": ...}
  kubecontrol status --all -o json > fleet.json && kubecontrol console --snapshot fleet.json
  kubecontrol console --allow-actions`,
    )
    .action(action(async (cmd) => consoleCommand(cmd)));
}

/** `kubecontrol console`: runs until SIGINT or SIGTERM. */
export async function consoleCommand(cmd: Command): Promise<number> {
  const o = cmd.opts<ConsoleFlags>();
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new KubecontrolError("USAGE", `--port: expected a port number (0-65535), found "${o.port}"`);
  const parallel = Number(o.parallel);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new KubecontrolError("USAGE", `--parallel: expected a positive number, found "${o.parallel}"`);
  const cacheSeconds = parseDuration(o.cache);
  if (cacheSeconds === undefined)
    throw new KubecontrolError("USAGE", `--cache: expected a duration such as "5s", found "${o.cache}"`);
  const json = globalOptions(cmd).json || o.output === "json";
  const [{ commandSetup }, { openStore }, { startConsole }, fleetMod] = await Promise.all([
    import("../load.js"),
    import("../../history/open.js"),
    import("../../console/server.js"),
    import("../../console/fleet.js"),
  ]);
  const { config, appsDir, loadOptions } = await commandSetup(cmd);
  const fleet = o.snapshot ? await fleetMod.snapshotFleet(path.resolve(o.snapshot)) : undefined;
  const store = await openStore(config.values);
  try {
    const source =
      fleet ??
      (await (async () => {
        const [{ liveFleet }, run, { leaseTiming }] = await Promise.all([
          import("../../console/live-fleet.js"),
          import("../deploy-run.js"),
          import("../../config/config.js"),
        ]);
        return liveFleet({
          appsDir,
          loadOptions,
          store,
          awsFor: await run.awsClientsByRegion(config),
          awsEndpoint: process.env.AWS_ENDPOINT_URL,
          requestTimeoutMs: leaseTiming(config.values).requestTimeoutMs,
          parallel,
          cacheMs: cacheSeconds * 1000,
        });
      })());
    if (o.host && !["127.0.0.1", "localhost", "::1", "[::1]"].includes(o.host))
      process.stderr.write(
        `warning: --host ${o.host}: the console listens beyond this machine; anyone who can reach it and has the login link can read the fleet's history${o.allowActions ? " and act on apps" : ""}. Prefer an SSH tunnel to 127.0.0.1.\n`,
      );
    const c = await startConsole({
      store,
      fleet: source,
      listen: o.host ? o.host.replace(/^\[(.*)\]$/, "$1") : "127.0.0.1",
      port,
      host: o.host,
      allowActions: o.allowActions === true,
      cli: {
        node: process.execPath,
        bin: path.resolve(path.dirname(process.argv[1] ?? "kubecontrol"), "kubecontrol"),
        appsDir,
        config: config.file ? path.resolve(config.file) : undefined,
      },
    });
    if (json) process.stdout.write(`${JSON.stringify({ url: c.url, login: c.loginUrl })}\n`);
    else
      process.stdout.write(
        `KubeApp Management Console on ${c.url}${o.snapshot ? ` (fleet from ${o.snapshot})` : ""}${o.allowActions ? ", actions on" : ", read-only"}\nlog in: ${c.loginUrl}\n`,
      );
    if (o.open) openBrowser(c.loginUrl);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await c.close();
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * Opens the login link in the desktop's browser without putting the token in any process's
 * argv (which every user of the host can read): a private file that redirects to it is opened
 * instead, and removed after a minute.
 */
function openBrowser(loginUrl: string): void {
  const dir = mkdtempSync(path.join(tmpdir(), "kubecontrol-console-"));
  const file = path.join(dir, "login.html");
  writeFileSync(file, `<!doctype html><meta http-equiv="refresh" content="0;url=${loginUrl}">\n`, {
    mode: 0o600,
  });
  const child = spawn("xdg-open", [file], { stdio: "ignore", detached: true });
  child.on("error", () => process.stderr.write(`could not open a browser (xdg-open): open the link above\n`));
  child.unref();
  setTimeout(() => rmSync(dir, { recursive: true, force: true }), 60_000).unref();
}
