#!/usr/bin/env node
// The `cairn` command: one process, role root or node (see node-runtime/src/cli/main.ts).
// Node >= 24 strips TypeScript types natively, so the sources run as they are.
await import('../src/cli/main.ts');
