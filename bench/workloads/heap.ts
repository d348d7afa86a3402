/**
 * B5: heap held per cached token. Runs with `--expose-gc`, one contender per
 * process: build the contender, collect garbage, read `heapUsed`; add the
 * users (token strings are made here, after the first reading, so every
 * contender pays for the strings it keeps); collect again and read again.
 */
import { RefreshingAuthProvider } from '@twurple/auth';
import { runAsChild } from '../lib/child.js';
import { createOurApp } from '../lib/nest-app.js';

export type HeapContender = 'ours' | 'twurple' | 'baseline';

export interface HeapParams {
  contender: HeapContender;
  users: number;
}

export interface HeapResult {
  contender: HeapContender;
  users: number;
  heapBefore: number;
  heapAfter: number;
  bytesPerToken: number;
}

const SCOPES = ['chat:read', 'chat:edit', 'moderator:read:followers'];
const FAR_FUTURE_SECONDS = 365 * 24 * 3600;

function collect(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('B5 needs node --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Twitch-shaped token strings, made fresh for each user and flat (one
 * sequential string, as JSON.parse hands them over), not a concatenation tree.
 */
function flat(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

function accessTokenOf(i: number): string {
  return flat(`a${i.toString(36).padStart(8, '0')}${'k'.repeat(21)}`);
}

function refreshTokenOf(i: number): string {
  return flat(`r${i.toString(36).padStart(8, '0')}${'m'.repeat(41)}`);
}

async function main({ contender, users }: HeapParams): Promise<HeapResult> {
  const userIdOf = (i: number) => String(200_000_000 + i);
  // Every user gets its own scopes array, as when tokens arrive one by one from Twitch.
  let holder: unknown;
  let check: (i: number) => Promise<string | undefined>;
  let heapBefore: number;
  if (contender === 'ours') {
    const ours = await createOurApp();
    heapBefore = collect();
    const expiresAt = new Date(Date.now() + FAR_FUTURE_SECONDS * 1000);
    for (let i = 0; i < users; i++)
      await ours.tokens.addToken(userIdOf(i), accessTokenOf(i), refreshTokenOf(i), [...SCOPES], { expiresAt });
    holder = ours;
    check = (i) => ours.tokens.getAccessToken(userIdOf(i));
  } else if (contender === 'twurple') {
    const provider = new RefreshingAuthProvider({ clientId: 'fake-client-id', clientSecret: 'fake-client-secret' });
    heapBefore = collect();
    const now = Date.now();
    for (let i = 0; i < users; i++) {
      provider.addUser(userIdOf(i), {
        accessToken: accessTokenOf(i),
        refreshToken: refreshTokenOf(i),
        scope: [...SCOPES],
        expiresIn: FAR_FUTURE_SECONDS,
        obtainmentTimestamp: now,
      });
    }
    holder = provider;
    check = async (i) => (await provider.getAccessTokenForUser(userIdOf(i)))?.accessToken;
  } else {
    const map = new Map<string, string>();
    heapBefore = collect();
    for (let i = 0; i < users; i++) map.set(userIdOf(i), accessTokenOf(i));
    holder = map;
    check = async (i) => map.get(userIdOf(i));
  }
  const heapAfter = collect();
  for (const i of [0, users >> 1, users - 1]) {
    if ((await check(i)) !== accessTokenOf(i)) throw new Error(`B5: ${contender} lost the token of user ${i}`);
  }
  void holder;
  return { contender, users, heapBefore, heapAfter, bytesPerToken: (heapAfter - heapBefore) / users };
}

runAsChild(main);
