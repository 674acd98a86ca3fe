"""Micro-batching: sentences from requests that arrive together are tagged in one batch.

The network is most efficient on batches, and an HTTP server sees one sentence at a
time. Requests queue their sentences; one task takes what has arrived, waiting at
most `max_wait` seconds for up to `max_batch` sentences, tags them in a worker
thread (the event loop never waits on the network) and hands each request its own
results. The Tagger is batch-invariant, so a result never depends on its neighbours.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from ..data.corpus import Sentence
from ..inference.tagger import Tagged

Job = tuple[Sequence[Sentence], "asyncio.Future[list[Tagged]]"]


class MicroBatcher:
    def __init__(self, tag: Callable[[list[Sentence]], list[Tagged]], max_batch: int = 64,
                 max_wait: float = 0.005) -> None:
        self.tag, self.max_batch, self.max_wait = tag, max_batch, max_wait
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ner-lstm-tagger")
        self.batches = 0  # batches run (the tests check that concurrent requests share them)

    async def tag_sentences(self, sentences: Sequence[Sentence]) -> list[Tagged]:
        """This request's results, tagged together with whatever else arrives meanwhile."""
        if not sentences:
            return []
        done: asyncio.Future[list[Tagged]] = asyncio.get_running_loop().create_future()
        await self.queue.put((sentences, done))
        return await done

    async def run(self) -> None:
        """Gather and tag batches until cancelled."""
        try:
            while True:
                await self._run_one(await self._gather())
        finally:
            self.thread.shutdown(wait=False, cancel_futures=True)

    async def _gather(self) -> list[Job]:
        loop = asyncio.get_running_loop()
        jobs = [await self.queue.get()]
        size = len(jobs[0][0])
        deadline = loop.time() + self.max_wait
        while size < self.max_batch:
            left = deadline - loop.time()
            if left <= 0 and self.queue.empty():
                break
            try:
                job = self.queue.get_nowait() if left <= 0 else await asyncio.wait_for(self.queue.get(), left)
            except (asyncio.QueueEmpty, TimeoutError):
                break
            jobs.append(job)
            size += len(job[0])
        return jobs

    async def _run_one(self, jobs: list[Job]) -> None:
        sentences = [sentence for job, _ in jobs for sentence in job]
        self.batches += 1
        try:
            tagged = await asyncio.get_running_loop().run_in_executor(self.thread, self.tag, sentences)
        except Exception as err:  # every waiting request gets the failure, the loop goes on
            for _, done in jobs:
                if not done.done():
                    done.set_exception(err)
            return
        start = 0
        for job, done in jobs:
            if not done.done():  # its client may have gone away
                done.set_result(tagged[start : start + len(job)])
            start += len(job)
