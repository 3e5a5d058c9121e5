/** A structured log line on stderr (the sandbox lifecycle sends components' stderr to their log file). */
export function logEvent(component: string, event: string, fields: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), component, event, ...fields })}\n`,
  );
}
