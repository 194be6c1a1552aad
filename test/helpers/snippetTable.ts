// The snippet test tables: which snippet answers each Python concurrency pattern (and the names a
// Python developer types for it), and what each snippet's default expansion prints when it runs.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const snippetsDir = path.resolve(__dirname, '..', '..', 'snippets');

export const snippetLanguages = [
  { language: 'javascript', ext: 'js', file: 'javascript.code-snippets' },
  { language: 'typescript', ext: 'ts', file: 'typescript.code-snippets' },
] as const;

/** One entry of a VS Code .code-snippets file. */
export interface SnippetEntry {
  prefix: string | string[];
  body: string | string[];
  description: string;
}

export type SnippetFile = Record<string, SnippetEntry>;

/** A .code-snippets file, parsed as strict JSON (no comments, no trailing commas). */
export function readSnippetFile(file: string): SnippetFile {
  return JSON.parse(fs.readFileSync(path.join(snippetsDir, file), 'utf8')) as SnippetFile;
}

export function prefixesOf(entry: SnippetEntry): string[] {
  return typeof entry.prefix === 'string' ? [entry.prefix] : entry.prefix;
}

/** Every snippet has exactly one prefix of the `py-` family: its id in these tables. */
export function pyPrefixOf(entry: SnippetEntry): string {
  const py = prefixesOf(entry).filter((p) => p.startsWith('py-'));
  if (py.length !== 1) throw new Error(`expected one py- prefix, got ${JSON.stringify(prefixesOf(entry))}`);
  return py[0];
}

export interface PythonPattern {
  /** The Python pattern, as the issue lists it. */
  pattern: string;
  /** The `py-` prefix of the snippet that gives its Node form (in both languages). */
  snippet: string;
  /** Prefixes a Python developer types for it; each must reach that same snippet. */
  typed: string[];
}

export const pythonPatterns: PythonPattern[] = [
  // multiprocessing
  { pattern: 'multiprocessing.Process(target, args, name, daemon): start, join(timeout), is_alive, terminate, exitcode, pid', snippet: 'py-mp-process', typed: ['Process', 'mp.Process', 'multiprocessing.Process'] },
  { pattern: 'a multiprocessing.Process subclass overriding run()', snippet: 'py-mp-process-subclass', typed: ['ProcessSubclass', 'mp.Process.run'] },
  { pattern: 'multiprocessing.Pool: apply, apply_async(callback), map, close/join, initializer', snippet: 'py-mp-pool', typed: ['Pool', 'mp.Pool', 'multiprocessing.Pool', 'pool.apply_async', 'pool.map'] },
  { pattern: 'multiprocessing.Queue: put/get(block, timeout), full/empty, bounded', snippet: 'py-mp-queue', typed: ['Queue', 'mp.Queue', 'multiprocessing.Queue', 'queue.Queue'] },
  { pattern: 'multiprocessing.JoinableQueue: task_done/join, producer–consumer with daemon consumers', snippet: 'py-mp-joinable-queue', typed: ['JoinableQueue', 'mp.JoinableQueue', 'multiprocessing.JoinableQueue'] },
  { pattern: 'multiprocessing.Pipe: duplex and one-way', snippet: 'py-mp-pipe', typed: ['Pipe', 'mp.Pipe', 'multiprocessing.Pipe'] },
  { pattern: 'multiprocessing.Lock', snippet: 'py-mp-lock', typed: ['mp.Lock', 'multiprocessing.Lock'] },
  { pattern: 'multiprocessing.Semaphore', snippet: 'py-mp-semaphore', typed: ['mp.Semaphore', 'multiprocessing.Semaphore'] },
  { pattern: 'multiprocessing.Event', snippet: 'py-mp-event', typed: ['mp.Event', 'multiprocessing.Event'] },
  { pattern: 'multiprocessing.Condition', snippet: 'py-mp-condition', typed: ['mp.Condition', 'multiprocessing.Condition'] },
  { pattern: 'multiprocessing.Manager().Queue()', snippet: 'py-mp-manager-queue', typed: ['Manager', 'mp.Manager', 'Manager().Queue'] },
  { pattern: 'multiprocessing.cpu_count()', snippet: 'py-mp-cpu-count', typed: ['cpu_count', 'mp.cpu_count', 'multiprocessing.cpu_count'] },
  { pattern: 'multiprocessing.active_children()', snippet: 'py-mp-cpu-count', typed: ['active_children'] },
  { pattern: 'multiprocessing.current_process()', snippet: 'py-mp-cpu-count', typed: ['current_process'] },
  // threading
  { pattern: 'threading.Thread(target, args, name, daemon), join', snippet: 'py-threading-thread', typed: ['Thread', 'threading.Thread'] },
  { pattern: 'threading.Lock, with lock', snippet: 'py-threading-lock', typed: ['Lock', 'threading.Lock'] },
  { pattern: 'threading.RLock (re-entrant)', snippet: 'py-threading-rlock', typed: ['RLock', 'threading.RLock'] },
  { pattern: 'threading.Condition: wait/notify_all', snippet: 'py-threading-condition', typed: ['Condition', 'threading.Condition'] },
  { pattern: 'threading.Semaphore', snippet: 'py-threading-semaphore', typed: ['Semaphore', 'threading.Semaphore'] },
  { pattern: 'threading.BoundedSemaphore', snippet: 'py-threading-semaphore', typed: ['BoundedSemaphore', 'threading.BoundedSemaphore'] },
  { pattern: 'threading.Event: set/clear/wait(timeout)/is_set', snippet: 'py-threading-event', typed: ['Event', 'threading.Event'] },
  { pattern: 'threading.Timer', snippet: 'py-threading-timer', typed: ['Timer', 'threading.Timer'] },
  { pattern: 'threading.Barrier', snippet: 'py-threading-barrier', typed: ['Barrier', 'threading.Barrier'] },
  { pattern: 'threading.local', snippet: 'py-threading-local', typed: ['local', 'threading.local'] },
  { pattern: 'threading.enumerate()', snippet: 'py-threading-enumerate', typed: ['threading.enumerate', 'active_count'] },
  { pattern: 'threading.current_thread()', snippet: 'py-threading-enumerate', typed: ['current_thread', 'threading.current_thread'] },
  { pattern: "catching a thread's exception in the caller (threading.excepthook)", snippet: 'py-threading-excepthook', typed: ['threading.excepthook', 'excepthook'] },
  // concurrent.futures
  { pattern: 'ThreadPoolExecutor: submit, map, as_completed, add_done_callback, cancel, result/exception, shutdown(wait), with', snippet: 'py-cf-thread-pool', typed: ['ThreadPoolExecutor', 'concurrent.futures', 'executor.submit'] },
  { pattern: 'ProcessPoolExecutor: submit, map, as_completed, add_done_callback, cancel, result/exception, shutdown(wait), with', snippet: 'py-cf-process-pool', typed: ['ProcessPoolExecutor', 'futures.ProcessPoolExecutor'] },
  { pattern: 'concurrent.futures.as_completed / add_done_callback', snippet: 'py-cf-as-completed', typed: ['as_completed', 'futures.as_completed', 'add_done_callback'] },
  // asyncio
  { pattern: 'asyncio.gather (and asyncio.run)', snippet: 'py-asyncio-gather', typed: ['asyncio.gather', 'gather', 'asyncio.run'] },
  { pattern: 'asyncio.wait (FIRST_COMPLETED, timeout)', snippet: 'py-asyncio-wait', typed: ['asyncio.wait', 'FIRST_COMPLETED'] },
  { pattern: 'asyncio.create_task (and Task.cancel)', snippet: 'py-asyncio-create-task', typed: ['asyncio.create_task', 'create_task', 'task.cancel'] },
  { pattern: 'asyncio.sleep', snippet: 'py-asyncio-sleep', typed: ['asyncio.sleep'] },
  { pattern: 'asyncio.Queue', snippet: 'py-asyncio-queue', typed: ['asyncio.Queue'] },
  { pattern: 'asyncio.Lock', snippet: 'py-asyncio-lock', typed: ['asyncio.Lock'] },
  { pattern: 'asyncio.Semaphore', snippet: 'py-asyncio-semaphore', typed: ['asyncio.Semaphore'] },
  { pattern: 'asyncio.Event', snippet: 'py-asyncio-event', typed: ['asyncio.Event'] },
  { pattern: 'asyncio timeouts (wait_for, asyncio.timeout)', snippet: 'py-asyncio-timeout', typed: ['asyncio.wait_for', 'asyncio.timeout', 'wait_for'] },
  { pattern: 'generator-based coroutines (yield / send)', snippet: 'py-generator-coroutine', typed: ['coroutine', 'gen.send'] },
  { pattern: 'gevent / greenlet spawn, joinall', snippet: 'py-gevent', typed: ['gevent.spawn', 'gevent.joinall', 'greenlet'] },
  // deadlocks
  { pattern: 'the classic deadlock: two locks taken in opposite order', snippet: 'py-deadlock-demo', typed: ['deadlock'] },
  { pattern: 'the RLock twist: a thread re-acquiring a plain Lock', snippet: 'py-deadlock-rlock', typed: [] },
  { pattern: 'the classic deadlock in async code', snippet: 'py-deadlock-async', typed: [] },
];

export interface SnippetRun {
  /** Exactly what stdout holds, line by line (for a hanging program: all it prints before it hangs). */
  output: string[];
  /** A teaching deadlock: the program must not end by itself (the test kills it). */
  hangs?: true;
}

/** What the default expansion of each snippet prints; the same in JavaScript and TypeScript. */
export const snippetRuns: Record<string, SnippetRun> = {
  'py-mp-process': {
    output: [
      'worker-1: 2 + 3 = 5',
      'worker-1: exitcode=0 is_alive=false pid is a number: true',
      'sleeper after join(200 ms): is_alive=true',
      'sleeper after terminate(): exitcode=-15',
      'daemon started: the parent exits without joining it, and kills it on the way out',
    ],
  },
  'py-mp-process-subclass': { output: ['squares: [1,4,9]', 'Squarer exitcode: 0'] },
  'py-mp-pool': {
    output: [
      'apply(power, (7,)) -> 49',
      'apply_async callback -> 144',
      'map(power, range(10)) -> [0,1,4,9,16,25,36,49,64,81]',
      'error_callback -> negative input: -1',
      'pool closed and joined',
    ],
  },
  'py-mp-queue': {
    output: [
      'empty() -> true',
      'full() -> true, qsize() -> 2',
      'put(timeout=0.05) on a full queue -> Full',
      'get() -> a, get() -> b',
      'get(block=False) on an empty queue -> Empty',
      "received 10 items from 2 producer threads, each producer's items in order: true",
      'producer exit codes: 0,0',
    ],
  },
  'py-mp-joinable-queue': { output: ['all 20 tasks done: sum of squares = 2870', 'main thread ends; the daemon consumers end with it'] },
  'py-mp-pipe': {
    output: ['parent got: pong 1', 'parent got: pong 2', 'parent got: pong 3', 'one-way pipe -> [1,2,3], then EOFError', 'poll(0.1) on a closed pipe -> false'],
  },
  'py-mp-lock': { output: ['counter = 12 (3 processes x 4 locked increments)', 'exit codes: 0,0,0'] },
  'py-mp-semaphore': { output: ['4 processes, Semaphore(2): at most 2 inside at once', 'exit codes: 0,0,0,0'] },
  'py-mp-event': {
    output: [
      '3 processes blocked in wait(); set() woke them: true,true,true',
      'after clear(): is_set() -> false, wait(timeout=0.1) -> false,false,false',
      'exit codes: 0,0,0',
    ],
  },
  'py-mp-condition': { output: ['2 consumers woken by notify_all() took: item-1,item-2', 'exit codes: 0,0'] },
  'py-mp-manager-queue': {
    output: ['consumer got: 0-0,0-1,0-2,1-0,1-1,1-2', 'get(timeout=0.1) on the empty queue -> Empty', 'exit codes: 0,0,0'],
  },
  'py-mp-cpu-count': {
    output: [
      'cpu_count() is a positive integer: true',
      'current_process().name -> MainProcess',
      'active_children() -> 2',
      'a child says current_process().name -> worker-1, parent pid matches: true',
      'a child says current_process().name -> worker-2, parent pid matches: true',
      'after join: active_children() -> 0',
    ],
  },
  'py-threading-thread': {
    output: [
      'worker-1 returned 55, is_alive after join: false',
      'spinner after join(0.1): is_alive=true, ident is a number: true',
      'main thread ends; the daemon thread does not keep the process alive',
    ],
  },
  'py-threading-lock': {
    output: ['counter = 40000 (4 threads x 10000 locked increments)', 'locked() -> true; acquire(timeout=0.05) by the holder -> false (not re-entrant)'],
  },
  'py-threading-rlock': {
    output: ['balance = 2000 (2 threads x 1000, the lock taken twice each time)', 'release() by a thread that does not own it -> cannot release un-acquired lock'],
  },
  'py-threading-condition': { output: ['consumers took 6 items, sum 21'] },
  'py-threading-semaphore': {
    output: ['4 threads, BoundedSemaphore(2): at most 2 inside at once', 'release() beyond the initial value -> Semaphore released too many times'],
  },
  'py-threading-event': {
    output: ['is_set() -> false; wait(timeout=0.05) -> false', '3 threads woke from wait(): true,true,true', 'after clear(): is_set() -> false'],
  },
  'py-threading-timer': { output: ['timer fired: hello world', 't2 cancelled before it fired: true'] },
  'py-threading-barrier': {
    output: [
      'after wait() every thread sees all phase-1 results: 6,6,6',
      'wait() returned the arrival indexes: 0,1,2',
      'wait(timeout=0.05) with a party missing -> BrokenBarrierError',
    ],
  },
  'py-threading-local': {
    output: [
      'request alice -> handled for alice',
      'request bob -> handled for bob',
      'request carol -> handled for carol',
      'outside any request: getStore() -> undefined',
      'module globals are per thread: the worker counted 5, the main thread still 0',
    ],
  },
  'py-threading-enumerate': {
    output: [
      'current_thread().name -> MainThread, ident -> 0',
      'enumerate() -> MainThread,worker-1,worker-2',
      'active_count() -> 3',
      'worker-1 says: ident > 0: true, is the main thread: false',
      'worker-2 says: ident > 0: true, is the main thread: false',
      'after join: active_count() -> 1',
    ],
  },
  'py-threading-excepthook': {
    output: ['caught in the caller: RangeError: negative input: -1', 'worker exit code: 1', 'Exception in thread unjoined: RangeError: negative input: -2'],
  },
  'py-cf-thread-pool': {
    output: [
      'add_done_callback: done() -> true',
      'submit(pow, 2, 10).result() -> 1024',
      'map(pow, [1, 2, 3, 4], [2, 2, 2, 2]) -> [1,4,9,16]',
      'as_completed(sleep 300, 20, 150) -> 20, 150, 300',
      'exception() -> Error: boom',
      'cancel() on a queued future -> true, on a running one -> false',
      'result() of the cancelled future -> CancelledError',
      'shutdown(wait=True) done: every worker has exited',
    ],
  },
  'py-cf-process-pool': {
    output: [
      'add_done_callback: done() -> true',
      'submit(is_prime, 97).result() -> true',
      'map(is_prime, range(1, 11)) -> [false,true,true,false,true,false,true,false,false,false]',
      'exception() -> RangeError: n must be >= 0, got -1',
      'cancel() on a queued future -> true, on a running one -> false',
      'as_completed(sleep 400, 20) -> 20, 400',
      'shutdown(wait=True) done: every worker process has exited',
    ],
  },
  'py-cf-as-completed': {
    output: ['as_completed -> fast, #2 failed: no such item, medium, slow', 'as_completed(timeout=0.05) -> fast, then TimeoutError: 1 (of 2) futures unfinished'],
  },
  'py-asyncio-gather': {
    output: ['gather -> [10,20,30]', 'gather(return_exceptions=True) -> 10, Error: bad item -1', 'gather with a failing task raises -> bad item -2'],
  },
  'py-asyncio-wait': {
    output: [
      'FIRST_COMPLETED -> done: fast; pending: slow,medium',
      'FIRST_EXCEPTION -> done: broken; pending: slow',
      'timeout=0.05 -> done: fast; pending: slow',
      'ALL_COMPLETED -> done: fast,medium; pending: -',
    ],
  },
  'py-asyncio-create-task': {
    output: ['done() right after create_task -> false', 'await task -> 42, done() -> true', 'cancel() -> true', 'await cancelled task -> CancelledError, cancelled() -> true'],
  },
  'py-asyncio-sleep': {
    output: [
      'sleep(0.05) -> done, took at least 50 ms: true',
      'two tasks yielding with sleep(0) interleave: a1 b1 a2 b2 a3 b3',
      'a 10 s sleep cancelled after 10 ms -> AbortError',
    ],
  },
  'py-asyncio-queue': { output: ['processed 10 items, sum of squares 385', 'get_nowait() on an empty queue -> QueueEmpty'] },
  'py-asyncio-lock': { output: ['without a lock: balance = 100 (one deposit lost)', 'with asyncio.Lock: balance = 200, locked() -> false'] },
  'py-asyncio-semaphore': { output: ['6 tasks, Semaphore(2): results [1,2,3,4,5,6], at most 2 inside at once'] },
  'py-asyncio-event': {
    output: ['before set(): is_set() -> false, woken: 0', 'after set(): woken a,b,c', 'after clear(): wait_for(wait(), 0.05) -> false'],
  },
  'py-asyncio-timeout': {
    output: [
      'wait_for(fetch 10 ms, timeout=0.1) -> data after 10 ms',
      'wait_for(fetch 1 s, timeout=0.05) -> TimeoutError: timed out after 50 ms',
      'sleep with AbortSignal.timeout(20) -> AbortError',
      'the timed-out fetch was cancelled, not left running: true',
    ],
  },
  'py-generator-coroutine': {
    output: [
      'send(10), send(20), send(30) -> 10, 15, 20',
      'throw() resets it -> NaN, then send(4) -> 4',
      'after close(): send(1) -> done=true',
      'yield from: x1, x1; return value: y done + y done',
      'round-robin: a2 | b3 | a1 | b2 | a done | b1 | b done',
    ],
  },
  'py-gevent': {
    output: [
      'joinall -> a: ok, b: ok, c: ok',
      'joinall(timeout=0.05) -> 0 finished, ready() -> false',
      'kill() -> ready() true, successful() false, exception GreenletExit',
    ],
  },
  'py-deadlock-demo': {
    output: ['thread-1 holds lock A, wants lock B', 'thread-2 holds lock B, wants lock A', 'each waits for the other: deadlock (and the main thread waits for both)'],
    hangs: true,
  },
  'py-deadlock-rlock': {
    output: ['with an RLock: the nested acquire goes through', 'with a Lock: thread-1 holds it and asks for it again: it waits for itself, forever'],
    hangs: true,
  },
  // Async code does not hang: the event loop drains and Node exits with 0, 'done' never printed.
  'py-deadlock-async': {
    output: ['task-1 holds lock A, wants lock B', 'task-2 holds lock B, wants lock A', "exit code 0, no 'done': both tasks still wait, but nothing is left to run"],
  },
};
