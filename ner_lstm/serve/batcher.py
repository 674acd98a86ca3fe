"""Micro-batching: sentences from requests that arrive together share the network, fairly.

The network is most efficient on batches, and an HTTP server sees a few sentences at a
time. Each request queues its sentences; one task takes up to `max_batch` of them,
one from each waiting request in turn (so a request of ten thousand sentences does not
hold up one of a single sentence), waiting at most `max_wait` seconds for a batch to
fill, and runs the network in a worker thread. A request is decoded whole once all its
sentences have their emissions, in another thread, so the event loop does no CPU work
and a result is what `Tagger.tag` gives for that request alone.

The queue is bounded (`max_queue` sentences): beyond it a request is refused at once
(`Overloaded`, a 503) instead of growing memory and latency without limit. A batch whose
network call fails is run again request by request, so one request's bad input fails
only that request.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.corpus import Sentence
from ..inference.tagger import Tagged, Tagger


class Overloaded(Exception):
    """The queue holds `max_queue` sentences: the request is refused now rather than queued."""


class TooLarge(Exception):
    """One request holds more sentences than the whole queue may."""


@dataclass(eq=False)
class Job:
    """One request: its sentences, what to make of their tags (run in a worker thread), its future."""

    sentences: Sequence[Sentence]
    finish: Callable[[list[Tagged]], Any]
    done: asyncio.Future
    rows: list[np.ndarray | None] = field(default_factory=list)
    sent: int = 0  # sentences handed to the network so far
    left: int = 0  # sentences still without emissions

    def __post_init__(self) -> None:
        self.rows = [None] * len(self.sentences)
        self.left = len(self.sentences)


class MicroBatcher:
    def __init__(self, tagger: Tagger, max_batch: int = 64, max_wait: float = 0.005, max_queue: int = 2048,
                 observe_batch: Callable[[int], None] | None = None) -> None:
        self.tagger, self.max_batch, self.max_wait, self.max_queue = tagger, max_batch, max_wait, max_queue
        self.observe_batch = observe_batch
        self.waiting: deque[Job] = deque()  # requests with sentences not yet handed to the network
        self.queued = 0  # their sentences
        self.batches = 0  # batches run (the tests check that concurrent requests share them)
        self.network = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ner-lstm-network")
        self.finishing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ner-lstm-decode")
        self._arrived: asyncio.Event | None = None
        self._tasks: set[asyncio.Task] = set()

    async def submit(self, sentences: Sequence[Sentence], finish: Callable[[list[Tagged]], Any]) -> Any:
        """`finish(tags of these sentences)`, computed in a worker thread once the network has run on them."""
        if len(sentences) > self.max_queue:
            raise TooLarge(f"{len(sentences)} sentences in one request; the limit is {self.max_queue} (--max-queue)")
        if self.queued + len(sentences) > self.max_queue:
            raise Overloaded(f"{self.queued} sentences are waiting; try again shortly")
        job = Job(sentences, finish, asyncio.get_running_loop().create_future())
        if job.left:
            self.waiting.append(job)
            self.queued += job.left
            self._event().set()
        else:
            self._start_finishing([job])
        return await job.done

    async def run(self) -> None:
        """Gather and run batches until cancelled."""
        loop = asyncio.get_running_loop()
        arrived = self._event()
        try:
            while True:
                while not self.waiting:
                    arrived.clear()
                    await arrived.wait()
                deadline = loop.time() + self.max_wait
                while self.queued < self.max_batch and (left := deadline - loop.time()) > 0:
                    arrived.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(arrived.wait(), left)
                taken = self._take()
                if taken:
                    await self._run(taken)
        finally:
            self.network.shutdown(wait=False, cancel_futures=True)
            self.finishing.shutdown(wait=False, cancel_futures=True)

    def _event(self) -> asyncio.Event:
        if self._arrived is None:
            self._arrived = asyncio.Event()
        return self._arrived

    def _take(self) -> list[tuple[Job, int]]:
        """Up to `max_batch` sentences, one from each waiting request in turn."""
        taken: list[tuple[Job, int]] = []
        while len(taken) < self.max_batch and self.waiting:
            job = self.waiting.popleft()
            if job.done.done():  # its client has gone: drop what it had left
                self.queued -= len(job.sentences) - job.sent
                continue
            taken.append((job, job.sent))
            job.sent += 1
            self.queued -= 1
            if job.sent < len(job.sentences):
                self.waiting.append(job)
        return taken

    async def _run(self, taken: list[tuple[Job, int]]) -> None:
        loop = asyncio.get_running_loop()
        self.batches += 1
        if self.observe_batch is not None:
            self.observe_batch(len(taken))
        sentences = [job.sentences[index] for job, index in taken]
        try:
            rows: list = await loop.run_in_executor(self.network, self.tagger.emission_rows, sentences)
        except Exception:
            rows = await self._one_request_at_a_time(taken)
        complete = []
        for (job, index), row in zip(taken, rows):
            if row is None or job.done.done():
                continue
            job.rows[index] = row
            job.left -= 1
            if not job.left:
                complete.append(job)
        if complete:
            self._start_finishing(complete)

    async def _one_request_at_a_time(self, taken: list[tuple[Job, int]]) -> list:
        """The rows of a failed batch, found request by request; a request that fails alone gets the error."""
        loop = asyncio.get_running_loop()
        rows: list = [None] * len(taken)
        for job in dict.fromkeys(job for job, _ in taken):
            places = [place for place, (owner, _) in enumerate(taken) if owner is job]
            try:
                found = await loop.run_in_executor(self.network, self.tagger.emission_rows,
                                                   [job.sentences[taken[p][1]] for p in places])
            except Exception as err:
                self._fail(job, err)
                continue
            for place, row in zip(places, found):
                rows[place] = row
        return rows

    def _fail(self, job: Job, err: Exception) -> None:
        if not job.done.done():
            job.done.set_exception(err)
        if job in self.waiting:
            self.waiting.remove(job)
            self.queued -= len(job.sentences) - job.sent

    def _start_finishing(self, jobs: list[Job]) -> None:
        task = asyncio.get_running_loop().create_task(self._finish(jobs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(self, jobs: list[Job]) -> None:
        """Decode the requests a batch completed in one call (what is decoded together never changes a
        result: documents do not cross requests), then make each one's answer."""
        def decode_and_finish() -> list[tuple[Any, Exception | None]]:
            sentences = [sentence for job in jobs for sentence in job.sentences]
            tagged = self.tagger.decode(sentences, [row for job in jobs for row in job.rows])  # type: ignore[misc]
            answers, start = [], 0
            for job in jobs:
                try:
                    answers.append((job.finish(tagged[start : start + len(job.sentences)]), None))
                except Exception as err:  # this request's answer failed; the others stand
                    answers.append((None, err))
                start += len(job.sentences)
            return answers

        try:
            answers = await asyncio.get_running_loop().run_in_executor(self.finishing, decode_and_finish)
        except Exception as err:
            answers = [(None, err)] * len(jobs)
        for job, (answer, err) in zip(jobs, answers):
            if job.done.done():
                continue
            if err is not None:
                job.done.set_exception(err)
            else:
                job.done.set_result(answer)
