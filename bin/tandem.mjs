#!/usr/bin/env node
// Entry point. Plain JavaScript so that an old Node.js gets a clear message
// instead of a syntax error: Tandem runs its TypeScript sources directly
// (Node's type stripping) and node-seal needs WebAssembly GC + exnref.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `tandem: Node.js ${process.versions.node} is too old. Tandem needs Node.js 22.18 or newer ` +
      `(24 recommended): node-seal needs WebAssembly GC and exception references, and the CLI runs ` +
      `TypeScript directly.\nFix: install Node.js 24 (e.g. \`npm install --prefix ~/.cache/tandem-node node@24\` ` +
      `and put ~/.cache/tandem-node/node_modules/.bin first on PATH), then run this command again.\n`,
  );
  process.exit(70);
}
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  // Type stripping and node:sqlite print experimental warnings that mean nothing to a user.
  if (warning.name === 'ExperimentalWarning') return;
  process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
await import('../cli/main.ts');
