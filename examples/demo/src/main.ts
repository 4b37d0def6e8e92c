import { fileURLToPath } from 'node:url';
import { runDemo } from './run-demo.js';

const auto = process.argv.includes('--auto');
const directory = fileURLToPath(new URL('../../../.signoff', import.meta.url));
const { controlPlane } = await runDemo({ directory, port: Number(process.env.SIGNOFF_DEMO_PORT ?? 8787), auto });

// Ctrl-C stops the control plane gracefully; the SQLite file keeps every request and the audit log.
const stop = () => void controlPlane.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
if (auto) await controlPlane.close();
else console.log(`The control plane keeps running at ${controlPlane.url} — try: pnpm signoff approvals list --all --as ana --url ${controlPlane.url}   (Ctrl-C to stop)`);
