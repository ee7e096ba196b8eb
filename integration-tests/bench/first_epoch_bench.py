#!/usr/bin/python3
"""The first epoch of a freshly started server beside a warm one, in one run.

On the throughput benchmark's collection (50,000 cells x 2,000 genes, CSR float32 at 5 %, two
.h5ad files), for each of --runs fresh servers: start the jar, read one epoch at once (every
endpoint in order, X + cell_type + X_pca to numpy, lz4), then keep reading for --warmup
seconds and read one more epoch (warm). Prints rows/s of both and their ratio.

    mvn -B -q package -DskipTests
    /usr/bin/python3 integration-tests/bench/first_epoch_bench.py [--java-opt ...]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput_bench as tb  # noqa: E402  (re-runs itself in the bench venv)

import synthetic  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    tb.add_collection_args(ap)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--warmup", type=float, default=30.0)
    ap.add_argument("--layout", default="csr")
    ap.add_argument("--java-opt", action="append", default=[])
    ap.add_argument("--server-warmup", type=int, action="append", default=None,
                    help="the server's --warmup-seconds (repeatable; default: 0 and 5)")
    args = ap.parse_args()
    colls = synthetic.write_collection(args.dir, args.cells, args.genes, 2, 0.05, [args.layout])
    tb.COMPRESSION = "lz4"
    for run in range(args.runs):
        for warmup in args.server_warmup or [0, 5]:
            t0 = time.time()
            server = tb.Server(args.jar, colls, "", args.java_opt,
                               ["--warmup-seconds", str(warmup)])
            started = time.time() - t0
            try:
                rows, _, secs = tb.annflight_sequential(server.location, args.layout)
                first = rows / secs
                end = time.time() + args.warmup
                while time.time() < end:
                    tb.annflight_sequential(server.location, args.layout)
                rows, _, secs = tb.best(lambda: tb.annflight_sequential(server.location, args.layout), 3)
                warm = rows / secs
            finally:
                server.stop()
            print(f"run {run}, --warmup-seconds {warmup}: server serving after {started:.1f} s;"
                  f" first epoch {first:,.0f} rows/s,"
                  f" warm {warm:,.0f} rows/s: first/warm {first / warm:.2f}", flush=True)


if __name__ == "__main__":
    main()
