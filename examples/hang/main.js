// Gridlock demo: a bank moves money between two accounts on two worker threads while a forked
// audit process waits to be told the books are closed. Each transfer locks both accounts —
// in opposite orders — and the program hangs. Run it with `npm run demo`.
const { Worker } = require('node:worker_threads');
const { fork } = require('node:child_process');
const path = require('node:path');

// Two futex-style locks (0 = free, 1 = taken) and a start line, in one SharedArrayBuffer.
const shared = new Int32Array(new SharedArrayBuffer(12));
const audit = fork(path.join(__dirname, 'audit.js'));

let finished = 0;
for (const [name, from, to] of [['alice→bob', 0, 1], ['bob→alice', 1, 0]]) {
  const teller = new Worker(path.join(__dirname, 'teller.js'), { name, workerData: { shared, from, to } });
  teller.on('exit', () => {
    if (++finished === 2) audit.send('books closed');
  });
}
console.log('bank: two transfers started');
