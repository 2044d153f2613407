/**
 * A first-in-first-out list that takes from the front in constant time: Array.shift moves every element,
 * which a waiting list of thousands (health checks, paced requests) would pay for each time.
 */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head++] as T;
    // Emptied: start a fresh array rather than keeping the taken slots.
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return item;
  }
}
