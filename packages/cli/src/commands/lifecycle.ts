// Process lifetime for long-running commands: stop cleanly on SIGTERM/SIGINT, once.
export function onShutdown(stop: () => Promise<void>, logger?: { info: (o: object, m: string) => void }): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger?.info({ signal }, 'shutting down');
      stop().then(resolve, resolve);
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  });
}
