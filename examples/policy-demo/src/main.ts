import { runDemo } from './run-demo.js';

runDemo();
