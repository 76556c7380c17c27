"""River network steady-solve throughput: element-scenarios per second.

Case (issue #6): a 1,000-element network (a 10-reach main stem with 5 tributaries, 1,000 elements
in all, Manning hydraulics, Fischer dispersion, point loads and a withdrawal) × 1,000 flow
scenarios, a first-order decaying substance. The scenarios are solved (1) as one block-diagonal
sparse system, (2) the same split into dask chunks (threads), and (3) one scenario at a time in
a Python loop (timed on a sample and scaled), all in the same run; results agree to 1e-12.

    python benchmarks/water.py [--scenarios 1000] [--chunks 125] [--loop-sample 50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def build_network():
    from ecodss.water.network import RiverNetwork

    main = [f"M{i}" for i in range(10)]
    tribs = [f"T{i}" for i in range(5)]
    reaches = pd.DataFrame({
        "reach": main + tribs,
        "downstream": main[1:] + [None] + [main[2 * i + 1] for i in range(5)],
        "length": [8000.0] * 10 + [4000.0] * 5,
        "n_elements": [80] * 10 + [40] * 5,
        "headwater_flow": [5.0] + [0.0] * 9 + [1.0] * 5,
        "bottom_width": [25.0] * 10 + [8.0] * 5,
        "slope": [4e-4] * 10 + [1e-3] * 5,
        "manning_n": [0.035] * 15,
    })
    sources = pd.DataFrame({
        "name": [f"outfall{i}" for i in range(10)] + ["intake"],
        "kind": ["point"] * 10 + ["withdrawal"],
        "reach": main + ["M6"],
        "x": [2000.0] * 10 + [4000.0],
        "flow": [0.5] * 10 + [2.0],
    })
    return RiverNetwork(reaches, sources)


def main(argv=None):
    from ecodss.water.kinetics import FirstOrderDecay
    from ecodss.water.steady import solve_steady

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--chunks", type=int, default=125)
    ap.add_argument("--loop-sample", type=int, default=50)
    args = ap.parse_args(argv)

    net = build_network()
    n_el, n_sc = net.n_elements, args.scenarios
    rng = np.random.default_rng(42)
    flows = net.source_flows()[:, None] * rng.uniform(0.6, 2.0, (len(net.sources), n_sc))
    boundary = pd.DataFrame({"c": [1.0] * 6 + [20.0] * 10},
                            index=["M0"] + [f"T{i}" for i in range(5)] + [f"outfall{i}" for i in range(10)])
    kin = FirstOrderDecay(0.4)
    solve_steady(net, kin, boundary, flow=flows[:, :2])          # warm-up

    t0 = time.perf_counter()
    batched = solve_steady(net, kin, boundary, flow=flows)["c"].values
    t_batch = time.perf_counter() - t0

    t0 = time.perf_counter()
    chunked = solve_steady(net, kin, boundary, flow=flows, chunks=args.chunks)["c"].values
    t_dask = time.perf_counter() - t0

    sample = min(args.loop_sample, n_sc)
    t0 = time.perf_counter()
    for j in range(sample):
        one = solve_steady(net, kin, boundary, flow=flows[:, j])["c"].values
        assert np.allclose(one, batched[:, j], rtol=1e-12, atol=0)
    t_loop = (time.perf_counter() - t0) * n_sc / sample
    assert np.allclose(chunked, batched, rtol=1e-12, atol=0)

    work = n_el * n_sc
    print(f"network: {n_el} elements × {n_sc} flow scenarios = {work:,} element-scenarios")
    print(f"one block-diagonal sparse system : {t_batch:8.2f} s  {work / t_batch:12,.0f} element-scenarios/s")
    print(f"dask chunks of {args.chunks:<4d} (threads)  : {t_dask:8.2f} s  {work / t_dask:12,.0f} element-scenarios/s")
    print(f"per-scenario Python loop (est.)  : {t_loop:8.2f} s  {work / t_loop:12,.0f} element-scenarios/s")
    print(f"speed-up vs loop: batched {t_loop / t_batch:5.1f}×, dask {t_loop / t_dask:5.1f}×")


if __name__ == "__main__":
    main()
