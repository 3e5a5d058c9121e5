/** Runs `tick` every `intervalMs` (after the previous pass ends) until the returned stop is called. */
export function pollLoop(tick: () => Promise<void>, intervalMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const done = (async () => {
    while (!stopped) {
      await tick();
      if (stopped) break;
      // Interval between passes, cut short by stop().
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs).unref();
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}
