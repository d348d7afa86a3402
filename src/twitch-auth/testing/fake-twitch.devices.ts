import type { FakeDeviceCode } from './fake-twitch.types.js';
import type { ResolvedFakeTwitchOptions } from './fake-twitch.store.js';
import { randomDeviceCode, randomUserCode } from './fake-twitch.random.js';

interface DeviceRecord extends FakeDeviceCode {
  clientId: string;
  /** Polls still to answer with `slow_down`. */
  slowDowns: number;
}

/** What a poll with a device code gets. */
export type DevicePollOutcome =
  | { ok: true; userId: string; scopes: string[] }
  | { ok: false; message: 'invalid device code' | 'expired_token' | 'slow_down' | 'access_denied' | 'authorization_pending' };

/** Device codes of the device-code flow, indexed by device code and by user code. */
export class FakeDeviceStore {
  private readonly byDeviceCode = new Map<string, DeviceRecord>();
  private readonly byUserCode = new Map<string, DeviceRecord>();
  private latest: DeviceRecord | null = null;

  constructor(private readonly options: ResolvedFakeTwitchOptions) {}

  /** Starts a device flow for these scopes. */
  start(scopes: string[]): FakeDeviceCode {
    let userCode = randomUserCode();
    while (this.byUserCode.has(userCode)) userCode = randomUserCode();
    const record: DeviceRecord = {
      deviceCode: randomDeviceCode(),
      userCode,
      scopes: [...scopes],
      expiresAt: this.options.now() + this.options.deviceCodeTtlSeconds * 1000,
      status: 'pending',
      userId: null,
      clientId: this.options.clientId,
      slowDowns: 0,
    };
    this.byDeviceCode.set(record.deviceCode, record);
    this.byUserCode.set(record.userCode, record);
    this.latest = record;
    return publicView(record);
  }

  /** The user approves the code: the next poll gets tokens for `userId`. */
  approve(userCode: string, userId: string): void {
    const record = this.pending(userCode, 'approve');
    record.status = 'approved';
    record.userId = userId;
  }

  /** The user declines the code: polls answer `access_denied`. */
  deny(userCode: string): void {
    this.pending(userCode, 'deny').status = 'denied';
  }

  /** The next `count` polls of this code answer `slow_down`. */
  slowDownNext(userCode: string, count: number): void {
    this.find(userCode).slowDowns += count;
  }

  /** Every device code issued (they are secrets: whoever holds one can collect the token). */
  *secrets(): IterableIterator<string> {
    yield* this.byDeviceCode.keys();
  }

  /** Answers one poll; an approved code yields its tokens exactly once. */
  poll(deviceCode: string, clientId: string): DevicePollOutcome {
    const record = this.byDeviceCode.get(deviceCode);
    if (!record || record.clientId !== clientId || record.status === 'consumed') {
      return { ok: false, message: 'invalid device code' };
    }
    if (record.expiresAt <= this.options.now()) return { ok: false, message: 'expired_token' };
    if (record.slowDowns > 0) {
      record.slowDowns--;
      return { ok: false, message: 'slow_down' };
    }
    if (record.status === 'denied') return { ok: false, message: 'access_denied' };
    if (record.status === 'pending') return { ok: false, message: 'authorization_pending' };
    record.status = 'consumed';
    return { ok: true, userId: record.userId!, scopes: [...record.scopes] };
  }

  /** The code with this user code, if any. */
  get(userCode: string): FakeDeviceCode | null {
    const record = this.byUserCode.get(userCode.toUpperCase());
    return record ? publicView(record) : null;
  }

  /** Every device code started so far, oldest first. */
  list(): FakeDeviceCode[] {
    return [...this.byDeviceCode.values()].map(publicView);
  }

  /** The most recently started device code. */
  last(): FakeDeviceCode | null {
    return this.latest ? publicView(this.latest) : null;
  }

  private find(userCode: string): DeviceRecord {
    const record = this.byUserCode.get(userCode.toUpperCase());
    if (!record) throw new Error(`FakeTwitch: no device code with user code ${userCode}`);
    return record;
  }

  private pending(userCode: string, action: string): DeviceRecord {
    const record = this.find(userCode);
    if (record.status !== 'pending') {
      throw new Error(`FakeTwitch: cannot ${action} device code ${userCode}: it is ${record.status}`);
    }
    return record;
  }
}

function publicView(record: DeviceRecord): FakeDeviceCode {
  const { deviceCode, userCode, scopes, expiresAt, status, userId } = record;
  return { deviceCode, userCode, scopes: [...scopes], expiresAt, status, userId };
}
