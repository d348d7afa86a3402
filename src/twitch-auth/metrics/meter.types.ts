/*
 * The parts of `@opentelemetry/api` the module uses, declared here because
 * that package is an optional peer: the module's type declarations must not
 * import it. Its real `Meter` is assignable to `TwitchAuthMeter` (checked in
 * opentelemetry-loader.spec.ts).
 */

/** Attribute values the module records: short strings. */
export type MetricAttributeSet = Readonly<Record<string, string>>;

/** Description and unit of an instrument, plus bucket advice for histograms. */
export interface InstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

/** A counter: `add` only. */
export interface CounterInstrument {
  add(value: number, attributes?: MetricAttributeSet): void;
}

/** A histogram: `record` only. */
export interface HistogramInstrument {
  record(value: number, attributes?: MetricAttributeSet): void;
}

/** An observable instrument, opaque to the module beyond identity. */
export type ObservableInstrument = object;

/** What a batch callback reports through. */
export interface BatchObservation {
  observe(observable: ObservableInstrument, value: number, attributes?: MetricAttributeSet): void;
}

/** A callback that observes several instruments at once, run only when a reader collects. */
export type BatchObservationCallback = (observation: BatchObservation) => void | Promise<void>;

/** The part of an OpenTelemetry `Meter` the module uses. */
export interface TwitchAuthMeter {
  createCounter(name: string, options?: InstrumentOptions): CounterInstrument;
  createHistogram(name: string, options?: InstrumentOptions): HistogramInstrument;
  createObservableGauge(name: string, options?: InstrumentOptions): ObservableInstrument;
  addBatchObservableCallback(callback: BatchObservationCallback, observables: ObservableInstrument[]): void;
  removeBatchObservableCallback(callback: BatchObservationCallback, observables: ObservableInstrument[]): void;
}

/** The part of `@opentelemetry/api` the module uses: the global meter provider. */
export interface OpenTelemetryMetricsApi {
  metrics: { getMeter(name: string, version?: string): TwitchAuthMeter };
}
