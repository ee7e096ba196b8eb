"""How the torch dataset deals one epoch's positions to parts (ranks x DataLoader workers) so
that what every part has consumed together is always a prefix of the epoch: training can stop
anywhere and continue on any number of ranks and workers from one number, the global
positions consumed.

From ``start`` on, the rest of the epoch (``length - start`` positions) is padded with the
epoch's first positions to a multiple of ``parts`` (or, with ``drop_last``, cut to one), then
dealt in rounds: global batch ``g`` (``batch_size`` positions) goes to part ``g % parts``.
Each part gets ``full`` whole batches and, without ``drop_last``, one last batch of ``short``
positions; the last round deals those short batches in part order. With parts numbered
``worker * world + rank`` (as ``shard_of_this_process`` does) and a DataLoader taking its
workers' batches in turn, step ``t`` of rank ``r`` is global batch ``t * world + r``: after
``k`` steps on every rank, the first ``k * world`` global batches are consumed, nothing else.
"""
from typing import Iterator, List, Tuple


class EpochLayout:
    def __init__(self, start: int, length: int, parts: int, batch_size: int, drop_last: bool):
        if parts <= 0 or batch_size <= 0:
            raise ValueError(f"parts ({parts}) and batch_size ({batch_size}) must be positive")
        self.start, self.length, self.parts = start, length, parts
        self.batch_size, self.drop_last = batch_size, drop_last
        remaining = max(0, length - start)
        per_part = remaining // parts if drop_last else -(-remaining // parts)
        self.full = per_part // batch_size
        self.short = 0 if drop_last else per_part - self.full * batch_size

    def batches_per_part(self) -> int:
        return self.full + (1 if self.short else 0)

    def batch(self, part: int, b: int) -> Tuple[int, int]:
        """(first position, size) of batch ``b`` of ``part``, before wrapping past the end."""
        if b < self.full:
            return self.start + (b * self.parts + part) * self.batch_size, self.batch_size
        return (self.start + self.full * self.parts * self.batch_size + part * self.short,
                self.short)

    def tickets(self, part: int, first_batch: int = 0,
                positions_per_ticket: int = 32768) -> Iterator[List[int]]:
        """The part's positions from batch ``first_batch`` on, in lists of whole batches of
        about ``positions_per_ticket``; positions past the epoch's end wrap to its start."""
        out: List[int] = []
        for b in range(first_batch, self.batches_per_part()):
            first, size = self.batch(part, b)
            if out and len(out) + size > positions_per_ticket:
                yield out
                out = []
            if first + size <= self.length:
                out.extend(range(first, first + size))
            else:  # the padding that wraps to the epoch's start
                out.extend(p % self.length for p in range(first, first + size))
        if out:
            yield out

    def consumed(self, global_batches: int) -> int:
        """Positions of the epoch consumed once the first ``global_batches`` are: the epoch's
        length at most (padding consumes nothing new)."""
        whole = min(global_batches, self.full * self.parts)
        last = min(max(0, global_batches - self.full * self.parts),
                   self.parts if self.short else 0)
        return min(self.length, self.start + whole * self.batch_size + last * self.short)
