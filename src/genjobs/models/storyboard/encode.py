"""H.264 MP4 files, each encoded on its own thread while the next frames are drawn.

libx264 runs without the GIL, so the drawing thread and the encoders share the cores. A
bounded queue per encoder keeps memory at a few frames whatever the video's length.
"""

from __future__ import annotations

import os
import queue
import threading
from fractions import Fraction
from pathlib import Path

import av

# Chosen for an animatic, where render time matters more than file size: ultrafast
# encodes about 1.7x faster than veryfast, for files 5-10x larger at the same crf
# (a 15 s 720p storyboard: ~3 MB instead of ~0.3 MB); crf 23 is x264's default quality.
X264_OPTIONS = {"preset": "ultrafast", "crf": "23"}
QUEUED_FRAMES = 8
BT709 = 1  # AVCOL_PRI_BT709 = AVCOL_TRC_BT709 = AVCOL_SPC_BT709
LIMITED_RANGE = 1  # AVCOL_RANGE_MPEG


def encoder_threads(encoders: int) -> int:
    """x264 threads per encoder: the cores split between the encoders running at once."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(1, encoders))


class Encoder:
    """One MP4 (libx264, yuv420p, BT.709, faststart); ``put`` frames, then ``finish``."""

    def __init__(self, path: Path, width: int, height: int, fps: int, threads: int) -> None:
        self.path = path
        self._container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        try:
            stream = self._container.add_stream("libx264", rate=fps, options=X264_OPTIONS)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            context = stream.codec_context
            # Frame threads (PyAV's default is slice threads: less parallel, larger files).
            context.thread_type = "FRAME"
            context.thread_count = threads
            context.color_primaries = context.color_trc = context.colorspace = BT709
            context.color_range = LIMITED_RANGE
        except BaseException:
            self._container.close()
            raise
        self._stream = stream
        self._time_base = Fraction(1, fps)
        self._frames: queue.Queue[av.VideoFrame | None] = queue.Queue(QUEUED_FRAMES)
        self._abort = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"encode-{path.name}", daemon=True)
        self._thread.start()

    def put(self, frame: av.VideoFrame, index: int) -> None:
        """Queue frame ``index``; the caller must not change it afterwards."""
        if self._error is not None:
            raise self._error
        frame.pts = index
        frame.time_base = self._time_base
        self._frames.put(frame)

    def finish(self) -> None:
        """Flush the encoder and close the file; raises the encoding thread's error."""
        self._frames.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop without flushing (cancel or failure): the file is left incomplete."""
        self._abort.set()
        while True:  # unblock a producer-side put and wake the thread
            try:
                self._frames.get_nowait()
            except queue.Empty:
                break
        self._frames.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            while (frame := self._frames.get()) is not None:
                if self._abort.is_set():
                    continue
                self._container.mux(self._stream.encode(frame))
            if not self._abort.is_set():
                self._container.mux(self._stream.encode(None))
        except BaseException as exc:  # reported to the drawing thread by put()/finish()
            self._error = exc
            while self._frames.get() is not None:  # drain so the producer never blocks
                pass
        finally:
            self._container.close()
