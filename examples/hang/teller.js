// One transfer: lock the source account, then the destination account.
const { workerData } = require('node:worker_threads');
const { shared, from, to } = workerData;
const START = 2;

lock(from);
// Both tellers hold their first lock before either takes the second: the deadlock is certain.
Atomics.add(shared, START, 1);
while (Atomics.load(shared, START) < 2) Atomics.wait(shared, START, Atomics.load(shared, START), 10);
lock(to);
unlock(to);
unlock(from);

function lock(account) {
  while (Atomics.compareExchange(shared, account, 0, 1) !== 0) Atomics.wait(shared, account, 1);
}

function unlock(account) {
  Atomics.store(shared, account, 0);
  Atomics.notify(shared, account);
}
