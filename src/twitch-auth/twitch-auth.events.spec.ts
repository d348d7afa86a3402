import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { TwitchAuthEventPublisher } from './twitch-auth.events.js';

describe('TwitchAuthEventPublisher.emitAndWait', () => {
  it('resolves when the emitter has no listener at all', async () => {
    const publisher = new TwitchAuthEventPublisher(new EventEmitter2());
    await expect(publisher.emitAndWait('twitch.eventsub.notification', {})).resolves.toBeUndefined();
  });

  it('waits for an async listener', async () => {
    const emitter = new EventEmitter2();
    const seen: string[] = [];
    emitter.on('x', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      seen.push('slow');
    });
    await new TwitchAuthEventPublisher(emitter).emitAndWait('x', {});
    expect(seen).toEqual(['slow']);
  });

  it('logs a failing listener instead of rejecting', async () => {
    const emitter = new EventEmitter2();
    emitter.on('x', async () => {
      throw new Error('listener broke');
    });
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      await expect(new TwitchAuthEventPublisher(emitter).emitAndWait('x', {})).resolves.toBeUndefined();
      expect(errors.mock.calls.map((call) => String(call[0]))).toEqual(['A listener of x failed: listener broke']);
    } finally {
      errors.mockRestore();
    }
  });
});
