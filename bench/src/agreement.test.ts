import { explainDecision } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import { findDisagreements } from './agree.js';
import { createFloorEngine } from './floor-engine.js';
import type { Engine } from './engine.js';
import { createCasbinEngine } from './peers/casbin.js';
import { createCedarEngine } from './peers/cedar.js';
import { createJsonRulesEngine } from './peers/json-rules-engine.js';
import { createSignoffEngine } from './signoff-engine.js';
import { loadWorkloads, type Workload } from './workloads.js';

/** Core's reference interpreter, which the compiled evaluator is property-tested against. */
function createReferenceEngine(): Engine {
  let policy: Workload['policy'] | undefined;
  return {
    name: 'explainDecision',
    prepare: (workload) => {
      policy = workload.policy;
    },
    decide: ({ tool, args }) => {
      if (policy === undefined) throw new Error('explainDecision: prepare() first');
      const { action, ruleId } = explainDecision(policy, { tool, args });
      return { action, ruleId };
    },
  };
}

describe('pnpm bench cross-checks every engine before timing', () => {
  for (const workload of loadWorkloads()) {
    const others = workload.comparePeers ? 'cedar-wasm, json-rules-engine, casbin, the hand-written floor, guard()' : 'guard()';
    it(`${others} and explainDecision decide every input of ${workload.name} like evaluate()`, async () => {
      const ours = createSignoffEngine();
      const peers = workload.comparePeers ? [createCedarEngine(), createJsonRulesEngine(), createCasbinEngine(), createFloorEngine()] : [];
      const engines = [createSignoffEngine({ receipt: true }), createReferenceEngine(), ...peers];
      for (const engine of [ours, ...engines]) await engine.prepare(workload);

      expect(await findDisagreements(workload, ours, engines)).toEqual([]);

      // Agreement means something only if the inputs reach every action, rules and the default.
      const matches = workload.inputs.map((input) => ours.guard().evaluate(input.tool, input.args));
      expect([...new Set(matches.map(({ action }) => action))].sort()).toEqual(['allow', 'deny', 'escalate']);
      expect(matches.some(({ ruleId }) => ruleId === null)).toBe(true);
    }, 60_000);
  }

  it('reports an engine that disagrees, with the input and both verdicts', async () => {
    const [seed] = loadWorkloads();
    if (seed === undefined) throw new Error('no seed workload');
    const ours = createSignoffEngine();
    ours.prepare(seed);
    const allowAll: Engine = { name: 'allow-all', prepare: () => undefined, decide: () => ({ action: 'allow', ruleId: 'read-only' }) };

    const disagreements = await findDisagreements(seed, ours, [allowAll]);

    expect(disagreements.length).toBeGreaterThan(0);
    expect(disagreements).toContainEqual({
      engine: 'allow-all',
      input: { tool: 'shell.exec', args: { command: 'ls' } },
      expected: { action: 'deny', ruleId: null },
      actual: { action: 'allow', ruleId: 'read-only' },
    });
  });
});
