import type pg from 'pg';
import { STREAM_CHANNEL } from './store.js';

/**
 * One `LISTEN` connection per process for {@link STREAM_CHANNEL}, shared by every watcher of that
 * process: a notification wakes the watchers of its task. Connected on first use; after a lost
 * connection it reconnects, and watchers keep their own poll as a floor, so a missed notification
 * only delays an event.
 */
export class StreamListener {
  private readonly watchers = new Map<string, Set<() => void>>();
  private client: pg.PoolClient | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  /** Calls `wake` whenever `taskId`'s stream grows, until the returned function is called. */
  async watch(taskId: string, wake: () => void): Promise<() => void> {
    let set = this.watchers.get(taskId);
    if (!set) this.watchers.set(taskId, (set = new Set()));
    set.add(wake);
    await this.connect().catch(() => undefined); // the watcher's poll covers a failed LISTEN
    return () => {
      set.delete(wake);
      if (set.size === 0) this.watchers.delete(taskId);
    };
  }

  /** Releases the connection; watchers stop being woken. */
  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.query(`UNLISTEN ${STREAM_CHANNEL}`).catch(() => undefined);
      client.release();
    }
  }

  private connect(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = await this.pool.connect();
      client.on('notification', (msg) => {
        for (const wake of this.watchers.get(msg.payload ?? '') ?? []) wake();
      });
      client.on('error', () => {
        // The connection is gone: drop it (destroying it, not returning it to the pool); the next
        // watch reconnects and the watchers' polls carry on meanwhile.
        if (this.client === client) this.client = undefined;
        client.release(true);
      });
      await client.query(`LISTEN ${STREAM_CHANNEL}`);
      if (this.closed) {
        client.release();
        return;
      }
      this.client = client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }
}
