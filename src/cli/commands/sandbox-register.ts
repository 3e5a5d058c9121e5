import type { Command } from "commander";

/** Registers `kubecontrol sandbox ...`. Loads nothing heavy: implementations are imported in actions. */
export function registerSandboxCommands(_program: Command): void {}
