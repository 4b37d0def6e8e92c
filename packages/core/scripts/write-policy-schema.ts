// Regenerates policy.schema.json from the zod schema: pnpm --filter @signoff/core schema
import { writeFileSync } from 'node:fs';
import { policyJsonSchema } from '../src/policy/policy-json-schema.js';

writeFileSync(new URL('../policy.schema.json', import.meta.url), `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
console.log('wrote packages/core/policy.schema.json');
