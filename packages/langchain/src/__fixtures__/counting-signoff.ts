import { createSignoff, type Signoff } from '@signoff/core';
import type { LocalControlPlane } from '@signoff/server';
import { policyFile } from './payments-agent.js';

/** A Signoff client whose every control-plane request is recorded (`METHOD /path`) in `requests`. */
export function countingSignoff(controlPlane: LocalControlPlane): { signoff: Signoff; requests: string[] } {
  const requests: string[] = [];
  const signoff = createSignoff({
    policy: policyFile,
    controlPlane: {
      url: controlPlane.url,
      apiKey: controlPlane.agentKey,
      fetch: async (input, init) => {
        requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
        return fetch(input, init);
      },
    },
  });
  return { signoff, requests };
}
