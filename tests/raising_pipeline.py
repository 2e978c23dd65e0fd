"""A pipeline that raises on the second batch it sees: a crawl that loses records to an error must not look whole."""
from __future__ import annotations

from spiders.items import Batch


class RaiseOnSecondBatch:
    def __init__(self):
        self.batches = 0

    def process_item(self, item, spider=None):
        if isinstance(item, Batch):
            self.batches += 1
            if self.batches == 2:
                raise RuntimeError("the disk is full")
        return item
