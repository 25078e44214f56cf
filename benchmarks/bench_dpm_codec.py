"""Micro-benchmark of the DPM codec: decodes and encodes per second.

Run: ``.venv/bin/python benchmarks/bench_dpm_codec.py``. Measures the paths a
client hits on a large get_many or a fast stream: a typical Scalar reply, a
DeviceInfo reply, a 1000-element ScalarArray reply, a 487-point logger chunk,
frame splitting, and AddToList encoding.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from pacsys_dpm.codec import (
    AddToListRequest,
    DeviceInfoReply,
    FrameDecoder,
    ScalarArrayReply,
    ScalarReply,
    TimedScalarArrayReply,
    decode_reply,
    encode_message,
    frame,
)


def rate(func: Callable[[], object], seconds: float = 0.2, repeats: int = 5) -> float:
    """Best calls-per-second of ``func`` over ``repeats`` runs of about ``seconds``.

    The best run is the least disturbed by other load on the machine.
    """
    best = 0.0
    for _ in range(repeats):
        calls = 0
        start = time.perf_counter()
        while True:
            for _ in range(100):
                func()
            calls += 100
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        best = max(best, calls / elapsed)
    return best


def main() -> None:
    scalar = encode_message(ScalarReply(1, 1704067200000, 0, 0, 72.5))
    info = encode_message(DeviceInfoReply(1, 27235, "M:OUTTMP", "Outdoor temperature", "DegF"))
    array = encode_message(ScalarArrayReply(2, 1704067200000, 0, 0, np.arange(1000.0)))
    micros = 1704067200000000 + np.arange(487, dtype=np.int64) * 15000
    chunk = encode_message(
        TimedScalarArrayReply(9, 1704067200000, 1, 0, np.linspace(0, 1, 487), micros)
    )
    stream = b"".join(frame(scalar) for _ in range(1000))
    add = AddToListRequest(4096, 1, "M:OUTTMP.READING@I")

    def split_1000() -> None:
        decoder = FrameDecoder()
        decoder.feed(stream)
        for body in decoder:
            decode_reply(body)

    results = {
        "decode Scalar reply": rate(lambda: decode_reply(scalar)),
        "decode DeviceInfo reply": rate(lambda: decode_reply(info)),
        "decode ScalarArray[1000] reply": rate(lambda: decode_reply(array)),
        "decode TimedScalarArray[487] reply": rate(lambda: decode_reply(chunk)),
        "split+decode 1000 framed Scalars": rate(split_1000),
        "encode AddToList request": rate(lambda: encode_message(add)),
        "encode Scalar reply": rate(lambda: encode_message(ScalarReply(1, 1, 0, 0, 1.5))),
    }
    for name, per_second in results.items():
        print(f"{name:36s} {per_second:12,.0f} /s  ({1e6 / per_second:8.2f} µs)")


if __name__ == "__main__":
    main()
