/**
 * The waiting items of a tracked queue, in queue order. Queues mostly start their items in the
 * order they came, so this is an array read from a moving head: an item taken out elsewhere is only
 * marked, and skipped when the head reaches it (a Set's add and delete per item cost more than all
 * the rest of an item's bookkeeping). Memory: the live items, plus ended ones the head has not
 * passed yet, never more than twice the live ones once past {@link COMPACT_AT}.
 */

/** A queue item as the tracker knows it. */
export interface QueueItem {
  id: string;
  /** When it was queued (agent clock). */
  ts: number;
  /** Reported one by one (the queue's first items). */
  detailed: boolean;
  /** In the waiting list (queued, not started, not dropped). */
  waiting: boolean;
}

/** Items kept before ended ones are dropped from the middle (when over half have ended). */
const COMPACT_AT = 1024;

export class WaitingItems {
  private items: QueueItem[] = [];
  private head = 0;
  /** How many are waiting. */
  size = 0;

  /** Adds at the end, or at the front (an unshift: rare). */
  add(item: QueueItem, front = false): void {
    item.waiting = true;
    this.size++;
    if (!front) {
      this.items.push(item);
      if (this.items.length > COMPACT_AT && this.items.length > 2 * this.size) this.compact();
      return;
    }
    this.compact();
    this.items.unshift(item);
  }

  /** Takes `item` out; false when it was not waiting. */
  delete(item: QueueItem): boolean {
    if (!item.waiting) return false;
    item.waiting = false;
    this.size--;
    if (this.size === 0) {
      this.items = [];
      this.head = 0;
    } else if (this.items[this.head] === item) {
      this.skipEnded();
    }
    return true;
  }

  /** The item waiting longest, if any. */
  first(): QueueItem | undefined {
    this.skipEnded();
    return this.size > 0 ? this.items[this.head] : undefined;
  }

  /** Takes every item out. */
  clear(): void {
    for (let i = this.head; i < this.items.length; i++) this.items[i].waiting = false;
    this.items = [];
    this.head = 0;
    this.size = 0;
  }

  private skipEnded(): void {
    const items = this.items;
    while (this.head < items.length && !items[this.head].waiting) this.head++;
    // The passed part is dropped once it is most of the array (each item is copied O(1) times).
    if (this.head > COMPACT_AT && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
  }

  private compact(): void {
    this.items = this.items.filter((item, i) => i >= this.head && item.waiting);
    this.head = 0;
  }
}
