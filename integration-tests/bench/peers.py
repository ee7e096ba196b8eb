"""lamindb's own MappedCollection as every benchmark's peer, and the benchmarks' outputs.

The peer is lamindb's module, unmodified, under ../shared/peers/lamindb (see its README; the
directory can be moved with ANNFLIGHT_LAMINDB_PEER). Benchmarks measure it in the same run as
annflight, on the same files, and report ratios to it; when the directory is absent they say
so and measure annflight alone.

Each benchmark also writes its table and a bar chart beside it: <out>/<name>.md and .png.
"""
import os
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
PEER_DIR = Path(os.environ.get("ANNFLIGHT_LAMINDB_PEER",
                               REPO.parent / "shared" / "peers" / "lamindb"))
BATCH = 256
# Bars whose label names one of these are the peers' (grey in the plots).
PEER_WORDS = ("lamindb", "peer", "h5py", "anndata", "zarr-python")


def peer_class():
    """lamindb's MappedCollection class, or None (saying why) when the peer is absent."""
    if not (PEER_DIR / "lamindb_peer.py").is_file():
        print(f"lamindb peer skipped: {PEER_DIR} is absent (../shared/peers/lamindb); "
              "annflight is measured alone, without ratios", flush=True)
        return None
    if str(PEER_DIR) not in sys.path:
        sys.path.insert(0, str(PEER_DIR))
    from lamindb_peer import MappedCollection
    return MappedCollection


def peer_rows(paths, obs_key: str, seconds: float, seed: int = 1) -> float:
    """Rows/s of lamindb's MappedCollection read one row at a time (mc[i]) in a random
    order, as DataLoader(shuffle=True) asks it; None without the peer."""
    cls = peer_class()
    if cls is None:
        return None
    with cls([str(p) for p in paths], obs_keys=[obs_key]) as mc:
        order = np.random.default_rng(seed).permutation(len(mc))
        mc[int(order[0])]  # opens the stores
        t0, n = time.perf_counter(), 0
        for i in order:
            mc[int(i)]
            n += 1
            if n % 64 == 0 and time.perf_counter() - t0 > seconds:
                break
        return n / (time.perf_counter() - t0)


def peer_loader(paths, obs_key: str, workers: int, seconds: float, warm_seconds: float = 3.0,
                batch: int = BATCH) -> float:
    """Samples/s of lamindb's MappedCollection in DataLoader(shuffle=True) with ``workers``
    persistent workers (its README: the default fork start method), steady state: timed after
    ``warm_seconds`` of batches, across epochs. None without the peer."""
    cls = peer_class()
    if cls is None:
        return None
    from torch.utils.data import DataLoader
    with cls([str(p) for p in paths], obs_keys=[obs_key]) as mc:
        loader = DataLoader(mc, batch_size=batch, shuffle=True, num_workers=workers,
                            persistent_workers=workers > 0,
                            worker_init_fn=mc.torch_worker_init_fn if workers else None)
        return loader_rate(loader, seconds, warm_seconds)


def loader_rate(loader, seconds: float, warm_seconds: float = 3.0, on_timed=None) -> float:
    """Samples/s of ``loader`` epoch after epoch (``set_epoch`` between epochs when its
    dataset has it), timed after ``warm_seconds`` of batches; ``on_timed()``, if given, is
    called as the timing starts."""
    def endless():
        epoch = 0
        while True:
            if hasattr(loader.dataset, "set_epoch"):
                loader.dataset.set_epoch(epoch)
            yield from loader
            epoch += 1

    it = endless()
    t_warm = time.perf_counter() + warm_seconds
    for _ in it:
        if time.perf_counter() > t_warm:
            break
    if on_timed is not None:
        on_timed()
    t0, n = time.perf_counter(), 0
    for batch in it:
        n += len(batch["_store_idx"] if "_store_idx" in batch else batch["X"])
        if time.perf_counter() - t0 > seconds:
            break
    return n / (time.perf_counter() - t0)


def ratio(a, b) -> str:
    return "-" if a is None or not b else f"{a / b:,.1f}x"


def load_note() -> str:
    """The machine's load while measuring (other engineers share its cores)."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} (1 min), {five:.1f} (5 min)"


def write_outputs(out: Path, name: str, title: str, table: str, bars: dict,
                  unit: str = "samples/s", log: bool = True):
    """<out>/<name>.md (title, table, load) and <out>/<name>.png: ``bars`` (label -> rate)
    as a horizontal bar chart, on a log scale unless ``log`` is False (figures of one
    magnitude, such as memory), peers included."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(f"{title}\n\n{table}\n\nMeasured with {load_note()}.\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot written", flush=True)
        return
    shown = {k: v for k, v in bars.items() if v}
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(shown) + 1.6))
    labels = list(shown)[::-1]
    colours = ["#999999" if any(w in k.lower() for w in PEER_WORDS)
               else "#1f77b4" for k in labels]
    ax.barh(labels, [shown[k] for k in labels], color=colours)
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(f"{unit} (log scale)" if log else unit)
    ax.set_title(textwrap.fill(title, 80), fontsize=8)
    for i, k in enumerate(labels):
        ax.text(shown[k], i, f" {shown[k]:,.0f}", va="center", fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=80)
    plt.close(fig)
    print(f"wrote {out / name}.md and .png", flush=True)
