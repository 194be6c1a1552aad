// contended async-mutex: 64 flows, each acquire waits; prints ms
const { Mutex, Semaphore } = require('async-mutex');
const m = new Mutex(); const s = new Semaphore(4);
const N = Number(process.argv[2] || 200000), F = 64; let left = N;
async function flow() { while (left-- > 0) { const r = await m.acquire(); await s.runExclusive(async () => { await null; }); r(); } }
const t = process.hrtime.bigint();
Promise.all(Array.from({ length: F }, flow)).then(() => console.log(Number(process.hrtime.bigint() - t) / 1e6));
