import { KubecontrolError } from "../errors.js";
import type { RunTrigger } from "../history/types.js";

/**
 * What started this run, as history records it: `$KUBECONTROL_TRIGGER` (`person` or `cron`)
 * when set (the lines `kubecontrol crontab` prints set it to cron); otherwise a person when
 * standard input is a terminal, cron when it is not and the environment has no `TERM` (cron's
 * environment has none; an SSH session, a terminal or CI's shell sets one), and a person (a
 * script someone ran) otherwise.
 */
export function runTrigger(
  env: NodeJS.ProcessEnv = process.env,
  stdinIsTTY: boolean = process.stdin.isTTY === true,
): RunTrigger {
  const given = env.KUBECONTROL_TRIGGER;
  if (given !== undefined && given !== "") {
    if (given === "person" || given === "cron") return given;
    throw new KubecontrolError(
      "CONFIG_INVALID",
      `$KUBECONTROL_TRIGGER: expected "person" or "cron", found "${given.slice(0, 40)}"`,
      { hint: "unset it, or set it to cron in cron's lines (kubecontrol crontab does)" },
    );
  }
  if (stdinIsTTY) return "person";
  return env.TERM ? "person" : "cron";
}
