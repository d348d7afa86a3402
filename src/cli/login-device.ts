import {
  DeviceAccessDeniedError,
  DeviceCodeExpiredError,
  type DevicePollEvent,
  type TokenInfo,
  type TokenService,
} from '../twitch-auth/index.js';
import { CliError, CliInterruptedError } from './cli.errors.js';
import { formatClock } from './format.js';
import type { CliOutput } from './token-commands.js';

/** Without a terminal, a progress line at most this often (logs stay readable). */
const PLAIN_PROGRESS_EVERY_MS = 30_000;

/** What the device login needs besides the TokenService. */
export interface DeviceLoginOptions {
  scopes: string[];
  timeoutSeconds: number;
  /** Cancels the wait (Ctrl+C). */
  signal: AbortSignal;
  output: CliOutput;
  /** Live countdown on one line (`\r`) when true; plain progress lines otherwise. */
  tty: boolean;
}

/**
 * Device-code login: prints where to go and which code to enter, counts
 * down until the user approves (or the code or `--timeout` runs out), and
 * stores the token. Works for public clients (no client secret).
 */
export async function loginWithDevice(tokens: TokenService, options: DeviceLoginOptions): Promise<TokenInfo> {
  const { output } = options;
  const device = await tokens.startDeviceFlow(options.scopes);
  const waitSeconds = Math.min(device.expiresIn, options.timeoutSeconds);
  const deadline = Date.now() + waitSeconds * 1000;
  output.out(`To authorize, open ${device.verificationUri}`);
  output.out(`and enter the code: ${device.userCode}`);

  const timeout = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
  const signal = AbortSignal.any([options.signal, timeout]);
  const countdown = startCountdown(deadline, options);
  try {
    return await tokens.waitForDeviceToken(device, { signal, onPoll: (event) => countdown.poll(event) });
  } catch (error) {
    if (options.signal.aborted) throw new CliInterruptedError('the login was cancelled; nothing was stored.');
    if (timeout.aborted && !(error instanceof DeviceCodeExpiredError)) {
      throw new CliError(`No approval within ${waitSeconds} s: run login again (or give more time with --timeout).`);
    }
    if (error instanceof DeviceAccessDeniedError) throw new CliError('The authorization was declined on Twitch; nothing was stored.');
    if (error instanceof DeviceCodeExpiredError) throw new CliError('The code expired before it was approved: run login again.');
    throw error;
  } finally {
    countdown.stop();
  }
}

/** The countdown: redrawn every second on a terminal, a plain line now and then otherwise. */
function startCountdown(deadline: number, options: DeviceLoginOptions): { poll(event: DevicePollEvent): void; stop(): void } {
  const { output, tty } = options;
  if (tty) {
    const draw = () => process.stderr.write(`\rWaiting for approval... ${formatClock(deadline - Date.now())} left `);
    draw();
    const timer = setInterval(draw, 1000);
    return {
      poll: (event) => {
        if (event.outcome === 'slow_down')
          process.stderr.write(`\rTwitch asked to poll more slowly (every ${event.nextPollInSeconds} s).\n`);
        draw();
      },
      stop: () => {
        clearInterval(timer);
        process.stderr.write('\r\x1b[K');
      },
    };
  }
  output.err(`Waiting for approval (${formatClock(deadline - Date.now())} left)...`);
  let lastLine = Date.now();
  return {
    poll: (event) => {
      const now = Date.now();
      if (event.outcome !== 'slow_down' && now - lastLine < PLAIN_PROGRESS_EVERY_MS) return;
      lastLine = now;
      output.err(`Still waiting for approval (${formatClock(deadline - now)} left; polling every ${event.nextPollInSeconds} s)...`);
    },
    stop: () => undefined,
  };
}
