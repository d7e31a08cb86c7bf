#!/usr/bin/env node
// The `cairn` command of the one Cairn image: `cairn operator ...` runs the Kubernetes operator,
// anything else the node runtime (`cairn server`, `cairn status`, ...). Node >= 24 strips
// TypeScript types natively, so the sources run as they are; the image strips them once at build
// instead, and they are loaded from there where present (stripped-sources.js says why).
const { useStrippedSources } = await import('./stripped-sources.js');
useStrippedSources();
if (process.argv[2] === 'server' && typeof process.execve === 'function') {
  // A storage node starts with a bounded young generation and few malloc arenas (process-flags.ts says why).
  const { tunedInvocation } = await import('../src/node/process-flags.ts');
  const next = tunedInvocation(process);
  if (next) process.execve(next.file, next.args, next.env);
}
if (process.argv[2] === 'operator') {
  const { runOperator } = await import('../../operator/src/main.ts');
  await runOperator(process.argv.slice(3)).catch((e) => {
    // Commander has already printed its own errors; anything else gets one line, not a stack.
    if (!String(e?.code ?? '').startsWith('commander.')) console.error(`cairn operator: ${e instanceof Error ? e.message : e}`);
    process.exit(typeof e?.exitCode === 'number' && e.exitCode !== 0 ? e.exitCode : 1);
  });
} else {
  await import('../src/cli/main.ts');
}
