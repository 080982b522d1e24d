import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { compileWireLimits, SEND_CHUNK_BYTES } from '../protocol/wire/chunking.ts';
import { EnvelopeLink, type Frame } from './envelope-link.ts';

/** A stream whose buffer is always full: every write asks the sender to wait for 'drain', which comes on the next tick. */
class FullStream extends EventEmitter {
  written = 0;
  write(_frame: Frame): boolean {
    this.written++;
    setImmediate(() => this.emit('drain'));
    return false;
  }
  end(): void {
    this.emit('end');
  }
}

describe('an envelope link under backpressure', () => {
  it('sends a long message through thousands of waits without leaving a listener behind', async () => {
    const stream = new FullStream();
    const link = new EnvelopeLink(stream, compileWireLimits({}), {
      onEnvelope: () => undefined,
    });
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const chunks = 2_000;
      for (let m = 0; m < 4; m++) await link.send(`m${m}`, new Uint8Array(SEND_CHUNK_BYTES * (chunks / 4)));
      expect(stream.written).toBeGreaterThanOrEqual(chunks);
      expect(link.listenerCount('closed')).toBe(0);
      expect(link.listenerCount('error')).toBe(0);
      expect(stream.listenerCount('drain')).toBe(0);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
