/** Subscribing to diagnostics channels for the life of the process, on every Node line the guard supports. */
import diagnosticsChannel from 'node:diagnostics_channel';

/** Channels subscribed through `channel().subscribe()`, held so they live as long as the process. */
const held: diagnosticsChannel.Channel[] = [];

/**
 * Subscribe to a diagnostics channel for the life of the process: `subscribe()` where Node has it
 * (18.7+), otherwise the channel object's own, kept referenced so that it is not collected
 * (internal).
 */
export function subscribeForever(name: string, onMessage: (message: unknown) => void): void {
  if (typeof diagnosticsChannel.subscribe === 'function') {
    diagnosticsChannel.subscribe(name, onMessage);
    return;
  }
  const channel = diagnosticsChannel.channel(name);
  channel.subscribe(onMessage);
  held.push(channel);
}
