import { readFileSync } from 'node:fs';
import type {
  CounterInstrument,
  HistogramInstrument,
  MetricAttributeSet,
  OpenTelemetryMetricsApi,
  TwitchAuthMeter,
} from './meter.types.js';

/** The meter (instrumentation scope) every instrument of the module belongs to. */
export const TWITCH_AUTH_METER_NAME = 'nestjs-twitch-auth';

/** The instruments' names; docs/operations.md lists them with their Prometheus names. */
export const TwitchAuthMetricName = {
  /** Counter: refreshes of user tokens at Twitch (`outcome`). */
  Refreshes: 'twitch_auth.token.refreshes',
  /** Histogram, seconds: how long each refresh took, retries included (`outcome`). */
  RefreshDuration: 'twitch_auth.token.refresh.duration',
  /** Counter: validations of user tokens (`outcome`). */
  Validations: 'twitch_auth.token.validations',
  /** Counter: revocations asked of Twitch (`outcome`). */
  Revocations: 'twitch_auth.token.revocations',
  /** Counter: refreshes and validations that waited for another instance's lease. */
  LeaseWaits: 'twitch_auth.lease.waits',
  /** Counter: EventSub messages received (`transport`, `outcome`). */
  EventSubMessages: 'twitch_auth.eventsub.messages',
  /** Counter: Helix requests sent, retries included (`status_class`, `rate_limited`). */
  HelixRequests: 'twitch_auth.helix.requests',
  /** Histogram, seconds: time to each Helix answer (`status_class`, `rate_limited`). */
  HelixRequestDuration: 'twitch_auth.helix.request.duration',
  /** Gauge: tokens by `status` (only `reauth_required`), in the shared storage. */
  Tokens: 'twitch_auth.tokens',
  /** Gauge: valid tokens overdue for maintenance (`kind`: validation | refresh), in the shared storage. */
  MaintenanceBacklog: 'twitch_auth.maintenance.backlog',
} as const;

/** How a refresh at Twitch ended (`permanent_failure`: the user must authorize again). */
export type RefreshOutcome = 'success' | 'transient_failure' | 'permanent_failure';
/** What validating a user token found (`error`: Twitch could not answer). */
export type ValidationOutcome = 'valid' | 'invalid' | 'error';
/** Whether Twitch confirmed a revocation. */
export type RevocationOutcome = 'success' | 'failure';
/** How an EventSub message reached the app. */
export type EventSubTransportName = 'webhook' | 'websocket' | 'conduit';
/**
 * What became of one EventSub message: handed to the dispatcher, dropped as
 * a redelivery, refused (signature, replay window, shape), a webhook
 * challenge answered, or not recorded for a server-side reason (`error`).
 */
export type EventSubMessageOutcome = 'dispatched' | 'duplicate' | 'bad_signature' | 'replay' | 'malformed' | 'challenge' | 'error';

/** Seconds-based buckets from 5 ms to 30 s, for calls to Twitch. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The module's OpenTelemetry instruments. Each event is recorded by one
 * call where its outcome is known; nothing is recorded on the token read
 * path when the token is cached. Built from the global meter provider when
 * the module starts: without `@opentelemetry/api` every method returns at
 * once, and without a registered SDK the API's instruments do nothing.
 */
export class TwitchAuthMetrics {
  /** Records nothing: for code built outside Nest's injector. */
  static readonly disabled = new TwitchAuthMetrics(null);

  /** The module's meter, or null without `@opentelemetry/api`. */
  readonly meter: TwitchAuthMeter | null;
  private readonly refreshes: CounterInstrument | null;
  private readonly refreshDuration: HistogramInstrument | null;
  private readonly validations: CounterInstrument | null;
  private readonly revocations: CounterInstrument | null;
  private readonly leaseWaits: CounterInstrument | null;
  private readonly eventSubMessages: CounterInstrument | null;
  private readonly helixRequests: CounterInstrument | null;
  private readonly helixDuration: HistogramInstrument | null;
  /** Attribute sets are built once: recording allocates nothing. */
  private readonly attributes = new Map<string, MetricAttributeSet>();
  private readonly eventSubAttributes: Partial<Record<EventSubTransportName, Partial<Record<EventSubMessageOutcome, MetricAttributeSet>>>> =
    {};

  /** Instruments from `api`'s global meter provider; none when `api` is null. */
  static fromApi(api: OpenTelemetryMetricsApi | null): TwitchAuthMetrics {
    return api ? new TwitchAuthMetrics(api.metrics.getMeter(TWITCH_AUTH_METER_NAME, packageVersion())) : TwitchAuthMetrics.disabled;
  }

  /** Use `fromApi` (or `disabled`); public for tests that bring their own meter. */
  constructor(meter: TwitchAuthMeter | null) {
    this.meter = meter;
    const counter = (name: string, description: string, unit: string) => meter?.createCounter(name, { description, unit }) ?? null;
    const seconds = (name: string, description: string) =>
      meter?.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS } }) ?? null;
    this.refreshes = counter(TwitchAuthMetricName.Refreshes, 'User token refreshes at Twitch, by outcome.', '{refresh}');
    this.refreshDuration = seconds(TwitchAuthMetricName.RefreshDuration, 'Time to refresh a user token at Twitch, retries included.');
    this.validations = counter(TwitchAuthMetricName.Validations, 'User token validations at Twitch, by outcome.', '{validation}');
    this.revocations = counter(TwitchAuthMetricName.Revocations, 'Token revocations asked of Twitch, by outcome.', '{revocation}');
    this.leaseWaits = counter(
      TwitchAuthMetricName.LeaseWaits,
      "Refreshes and validations that waited for another instance's lease on the user.",
      '{wait}',
    );
    this.eventSubMessages = counter(
      TwitchAuthMetricName.EventSubMessages,
      'EventSub messages received, by transport and outcome.',
      '{message}',
    );
    this.helixRequests = counter(TwitchAuthMetricName.HelixRequests, 'Helix requests sent (each attempt), by status class.', '{request}');
    this.helixDuration = seconds(TwitchAuthMetricName.HelixRequestDuration, 'Time from sending a Helix request to its answer.');
  }

  /** One refresh of a user token at Twitch ended, `seconds` after it started. */
  refreshed(outcome: RefreshOutcome, seconds: number): void {
    if (!this.refreshes) return;
    const attributes = this.attributesOf('outcome', outcome);
    this.refreshes.add(1, attributes);
    this.refreshDuration!.record(seconds, attributes);
  }

  /** One validation of a user token ended. */
  validated(outcome: ValidationOutcome): void {
    this.validations?.add(1, this.attributesOf('outcome', outcome));
  }

  /** One revocation asked of Twitch ended. */
  revoked(outcome: RevocationOutcome): void {
    this.revocations?.add(1, this.attributesOf('outcome', outcome));
  }

  /** A refresh or validation found the user's lease held by another instance and waited. */
  leaseWaited(): void {
    this.leaseWaits?.add(1);
  }

  /** One EventSub message was answered (webhook) or handled (WebSocket, conduit). */
  eventSubMessage(transport: EventSubTransportName, outcome: EventSubMessageOutcome): void {
    if (!this.eventSubMessages) return;
    // Once per socket message: looked up by the two labels, no key string joined per call.
    const byOutcome = (this.eventSubAttributes[transport] ??= {});
    this.eventSubMessages.add(1, (byOutcome[outcome] ??= this.attributesOf('transport', transport, 'outcome', outcome)));
  }

  /** One Helix request got an answer with `status` (null: none came), `seconds` after it was sent. */
  helixRequest(status: number | null, seconds: number): void {
    if (!this.helixRequests) return;
    const statusClass = status === null ? 'none' : `${Math.floor(status / 100)}xx`;
    const attributes = this.attributesOf('status_class', statusClass, 'rate_limited', status === 429 ? 'true' : 'false');
    this.helixRequests.add(1, attributes);
    this.helixDuration!.record(seconds, attributes);
  }

  private attributesOf(...pairs: string[]): MetricAttributeSet {
    const key = pairs.join('\u0000');
    let attributes = this.attributes.get(key);
    if (!attributes) {
      const built: Record<string, string> = {};
      for (let i = 0; i < pairs.length; i += 2) built[pairs[i]!] = pairs[i + 1]!;
      attributes = Object.freeze(built);
      this.attributes.set(key, attributes);
    }
    return attributes;
  }
}

/** This package's version, for the meter. This file sits three levels below the package root in `src/` and in `dist/` alike. */
function packageVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
