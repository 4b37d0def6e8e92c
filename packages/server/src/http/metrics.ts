import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server (its own registry, so several servers can live in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'signoff_' });
  return {
    registry,
    created: new Counter({ name: 'signoff_approval_requests_created_total', help: 'Approval requests created, by initial status', labelNames: ['status'], registers: [registry] }),
    decisions: new Counter({ name: 'signoff_decisions_total', help: 'Reviewer decisions recorded', labelNames: ['verdict', 'channel'], registers: [registry] }),
    refusals: new Counter({ name: 'signoff_refusals_total', help: 'Refused decisions and access attempts, by code', labelNames: ['code'], registers: [registry] }),
    waiting: new Gauge({ name: 'signoff_waiting_clients', help: 'Clients currently long-polling for a decision', registers: [registry] }),
  };
}
