import { Controller, Get, Header, type OnApplicationShutdown } from '@nestjs/common';
import { DemoMetrics } from './demo-metrics.js';

/** `GET /metrics`: what Prometheus scrapes (see docs/operations.md for the metric names). */
@Controller('metrics')
export class MetricsController implements OnApplicationShutdown {
  constructor(private readonly metrics: DemoMetrics) {}

  /** The module's counters, histograms and gauges in Prometheus' text format. */
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }

  /** Stops the SDK with the app. */
  onApplicationShutdown(): Promise<void> {
    return this.metrics.shutdown();
  }
}
