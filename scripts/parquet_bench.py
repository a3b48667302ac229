#!/usr/bin/env python3
"""pyarrow side of scripts/bench-parquet: builds the orders-shaped dataset in memory (untimed), with
the same formulas as Sources/parquet-bench, then times pyarrow.parquet.write_table (zstd,
dictionary on, the given row group size).

  parquet_bench.py OUT.parquet [ROWS] [ROW_GROUP_ROWS]
"""
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix(x):
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def main():
    path = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
    rg = int(sys.argv[3]) if len(sys.argv) > 3 else 1_048_576
    g = np.arange(1, rows + 1, dtype=np.int64)
    u = g.astype(np.uint64)

    statuses = np.array(["new", "paid", "shipped", "delivered", "returned"], dtype=object)
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    words = np.stack([mix(u * np.uint64(5) + np.uint64(k)) for k in range(5)], axis=1)  # (n, 5)
    be = words.astype(">u8").view(np.uint8).reshape(rows, 40)
    hexbytes = np.empty((rows, 80), dtype=np.uint8)
    hexbytes[:, 0::2] = hexdigits[be >> 4]
    hexbytes[:, 1::2] = hexdigits[be & 15]
    note_offsets = np.arange(0, 80 * (rows + 1), 80, dtype=np.int32)
    note_valid = g % 10 != 0
    note = pa.Array.from_buffers(pa.string(), rows,
                                 [pa.array(note_valid).buffers()[1], pa.py_buffer(note_offsets), pa.py_buffer(hexbytes.tobytes())],
                                 null_count=int((~note_valid).sum()))
    amount_unscaled = (g * 104729) % 10_000_000
    pairs = np.empty((rows, 2), dtype=np.int64)
    pairs[:, 0] = amount_unscaled
    pairs[:, 1] = np.where(amount_unscaled < 0, -1, 0)
    amount = pa.Array.from_buffers(pa.decimal128(12, 2), rows, [None, pa.py_buffer(pairs.tobytes())])
    ship_valid = g % 7 != 0
    refs = np.stack([mix(u ^ np.uint64(0xABCDEF)), mix(u ^ np.uint64(0x123456))], axis=1).astype(">u8")
    ref_storage = pa.Array.from_buffers(pa.binary(16), rows, [None, pa.py_buffer(refs.tobytes())])
    ref = pa.ExtensionArray.from_storage(pa.uuid(), ref_storage) if hasattr(pa, "uuid") else ref_storage
    src = ["web", "app", "pos"]
    attrs = pa.array([f'{{"n": {i % 17}, "src": "{src[i % 3]}", "vip": {"true" if i % 97 == 0 else "false"}}}'
                      for i in range(1, rows + 1)], type=pa.string())
    table = pa.table({
        "id": pa.array(g),
        "customer_id": pa.array(((g * 7919) % 100000).astype(np.int32)),
        "status": pa.array(statuses[g % 5], type=pa.string()),
        "note": note,
        "amount": amount,
        "price": pa.array((g % 1000) * 1.37 + 0.01),
        "created_at": pa.array(1_704_067_200_000_000 + g * 1_700_000, type=pa.timestamp("us", tz="UTC")),
        "ship_date": pa.array((19723 + g % 700).astype(np.int32), type=pa.date32(), mask=~ship_valid),
        "is_paid": pa.array(g % 3 == 0),
        "ref": ref,
        "attrs": attrs,
    })
    kwargs = dict(compression="zstd", use_dictionary=True, row_group_size=rg)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        pq.write_table(table, path, store_decimal_as_integer=True, **kwargs)
    except TypeError:
        start, cpu = time.perf_counter(), time.process_time()
        pq.write_table(table, path, **kwargs)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    import os
    print(f"pyarrow_seconds={seconds}")
    print(f"pyarrow_bytes={os.path.getsize(path)}")
    print(f"pyarrow_cpu_seconds={cpu}")


if __name__ == "__main__":
    main()
