import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * The demo's OpenTelemetry SDK: a meter provider whose only reader is a
 * Prometheus exporter that starts no server of its own (`GET /metrics` on
 * the demo's server serves it). The library records through the global
 * provider and never registers one: this is the application's part.
 */
export class DemoMetrics {
  private readonly serializer = new PrometheusSerializer();

  private constructor(
    private readonly exporter: PrometheusExporter,
    private readonly provider: MeterProvider,
  ) {}

  /** Everything recorded so far, in Prometheus' text format. */
  async scrape(): Promise<string> {
    const { resourceMetrics, errors } = await this.exporter.collect();
    const text = this.serializer.serialize(resourceMetrics);
    // A failed callback leaves its gauges out; say so in the page instead of failing the whole scrape.
    return errors.length === 0 ? text : `${text}# ${errors.length} metric callback(s) failed during this collection\n`;
  }

  /** Stops collecting and unregisters the global provider (once). */
  async shutdown(): Promise<void> {
    if (registered !== this) return;
    registered = null;
    metrics.disable();
    await this.provider.shutdown();
  }

  /**
   * Registers the SDK as the global meter provider, once per process. Call it
   * before `NestFactory.create`: the module takes its meter when it starts.
   */
  static register(): DemoMetrics {
    if (registered) return registered;
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    metrics.setGlobalMeterProvider(provider);
    registered = new DemoMetrics(exporter, provider);
    return registered;
  }
}

let registered: DemoMetrics | null = null;
