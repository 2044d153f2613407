import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/util/fifo.js';

describe('Fifo', () => {
  it('gives items back in arrival order, across emptying and refilling', () => {
    const q = new Fifo<number>();
    expect(q.shift()).toBeUndefined();
    for (const n of [1, 2, 3]) q.push(n);
    expect(q.shift()).toBe(1);
    q.push(4);
    expect(q.size).toBe(3);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([2, 3, 4]);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
    q.push(5);
    expect([q.size, q.shift(), q.size]).toEqual([1, 5, 0]);
  });
});
