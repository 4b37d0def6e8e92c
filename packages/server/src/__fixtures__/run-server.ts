// Starts a control plane from a config file in its own process (for crash tests) and prints its URL.
import { loadServerConfig } from '../config/server-config.js';
import { startServer } from '../start-server.js';

const server = await startServer(loadServerConfig(process.argv[2] as string));
console.log(`listening ${server.url}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
