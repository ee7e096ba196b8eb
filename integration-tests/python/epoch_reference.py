"""A pure-Python reimplementation of the server's epoch orders, from docs/reference/epochs.md
alone (no server code): SplitMix64, the keyed Feistel permutation, shuffle, block_shuffle,
split, weighted draws (alias table) and equal_parts. Slow (a Python loop per row) and simple
on purpose: block_shuffle lists its blocks and pools instead of the server's arithmetic on
them, so the two implementations share the specification and nothing else."""
import math
from typing import List, Optional, Sequence

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
ROUNDS = 6


def mix(z: int) -> int:
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def state(seed: int, epoch: int, salt: int) -> int:
    return mix(seed) ^ mix((epoch & MASK) ^ ((GOLDEN * salt) & MASK))


def output(st: int, i: int) -> int:
    """Output i (0-based) of SplitMix64 started at state st."""
    return mix(st + (i + 1) * GOLDEN)


def unit(bits: int) -> float:
    return (bits >> 11) * 2.0 ** -53


class Permutation:
    """The keyed bijection of [0, n)."""

    def __init__(self, n: int, st: int):
        self.n = n
        w = max(2, (n - 1).bit_length()) if n > 1 else 2
        self.low = w // 2
        self.high = w - self.low
        self.keys = [output(st, i) for i in range(ROUNDS)]

    def _encrypt(self, v: int) -> int:
        left, right = v >> self.low, v & ((1 << self.low) - 1)
        for i in range(0, ROUNDS, 2):
            left ^= mix(right ^ self.keys[i]) >> (64 - self.high)
            right ^= mix(left ^ self.keys[i + 1]) >> (64 - self.low)
        return (left << self.low) | right

    def __call__(self, x: int) -> int:
        if self.n <= 1:
            return x
        y = self._encrypt(x)
        while y >= self.n:
            y = self._encrypt(y)
        return y


def split_rows(n_rows: int, holdout: float, seed: int, part: str,
               unfiltered: Optional[Sequence[int]] = None) -> List[int]:
    """The collection rows of a part; unfiltered[r]: row r's position before obs_filter."""
    seed_mix = mix(seed)
    out = []
    for r in range(n_rows):
        u = r if unfiltered is None else unfiltered[r]
        held = unit(seed_mix ^ mix(u)) < holdout
        if held == (part == "holdout"):
            out.append(r)
    return out


def shuffle(rows: List[int], seed: int, epoch: int) -> List[int]:
    perm = Permutation(len(rows), state(seed, epoch, 1))
    return [rows[perm(p)] for p in range(len(rows))]


def block_shuffle(rows: List[int], store_of_row: Sequence[int], seed: int, epoch: int,
                  block_size: int = 64, pool_blocks: int = 128) -> List[int]:
    """rows: the usable collection rows, ascending; store_of_row[r]: the store of row r."""
    blocks, current = [], None
    for r in rows:  # each store's usable rows cut into blocks of block_size
        if current is None or store_of_row[r] != store_of_row[current[0]] \
                or len(current) == block_size:
            current = [r]
            blocks.append(current)
        else:
            current.append(r)
    base = state(seed, epoch, 2)
    perm = Permutation(len(blocks), base)
    ordered = [blocks[perm(t)] for t in range(len(blocks))]
    out = []
    for j, first in enumerate(range(0, len(ordered), pool_blocks)):
        pool = [r for block in ordered[first:first + pool_blocks] for r in block]
        inner = Permutation(len(pool), mix(base ^ (j + 1)))
        out += [pool[inner(q)] for q in range(len(pool))]
    return out


def alias_table(weights: List[float]):
    g = len(weights)
    total = 0.0
    for w in weights:
        total += w
    keep, alias = [0.0] * g, [0] * g
    q = [w * g / total for w in weights]
    small = [i for i in range(g) if q[i] < 1]
    large = [i for i in range(g) if q[i] >= 1]
    while small and large:
        lo, hi = small.pop(), large.pop()
        keep[lo], alias[lo] = q[lo], hi
        q[hi] = (q[hi] + q[lo]) - 1
        (small if q[hi] < 1 else large).append(hi)
    for i in large + small:
        keep[i], alias[i] = 1.0, i
    return keep, alias


def weighted(rows: List[int], store_of_row: Sequence[int], row_weights: Sequence[float],
             seed: int, epoch: int, num_samples: int) -> List[int]:
    """With replacement."""
    groups, ids = [], {}
    for r in rows:
        w = row_weights[r]
        if not w > 0:
            continue
        key = (store_of_row[r], w)
        if key not in ids:
            ids[key] = len(groups)
            groups.append((w, []))
        groups[ids[key]][1].append(r)
    keep, alias = alias_table([len(members) * w for w, members in groups])
    st = state(seed, epoch, 3)
    out = []
    for p in range(num_samples):
        h0, h1, h2 = (output(st, 3 * p + i) for i in range(3))
        c = min(len(groups) - 1, int(unit(h0) * len(groups)))
        g = c if unit(h1) < keep[c] else alias[c]
        members = groups[g][1]
        out.append(members[min(len(members) - 1, int(unit(h2) * len(members)))])
    return out


def weighted_without_replacement(rows: List[int], row_weights: Sequence[float], seed: int,
                                 epoch: int, num_samples: int) -> List[int]:
    st = state(seed, epoch, 3)
    keys = []
    for k, r in enumerate(rows):
        w = row_weights[r]
        keys.append(math.log(unit(output(st, k))) / w if w > 0 else -math.inf)
    order = sorted(range(len(rows)), key=lambda k: (-keys[k], k))
    return [rows[k] for k in order[:num_samples]]


def equal_parts(order: List[int], count: int, pad: bool) -> List[int]:
    n = len(order)
    per = -(-n // count) if pad else n // count
    return [order[p % n] for p in range(per * count)]
