"""River water quality with ecodss: DO sag on the sample river, a spill, and Boulder Creek.

    python examples/water_quality.py [--out ecodss-water-example]

1. Steady DO / NH3-N / CODMn on the sample river (Qingshui He with the Sha He tributary,
   ``data/samples/river``) at today's loads and at a summer low-flow design condition (headwater
   flows halved, 25 degC): section values, GB 3838 classes, profile plots with the class bands.
2. A 2 t spill of a conservative substance at the Chengdong WWTP outfall: arrival, peak and
   passage at the drinking-water intake and the assessment section, and the mass budget.
3. Boulder Creek (Colorado, 21 Aug 1987; QUAL2Kw 5.1 reference case in ``../shared/water``):
   steady algae-off run from the ``.q2k`` file compared with QUAL2Kw's algae-off daily means —
   skipped when the reference folder is absent.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "water"


def sample_sag(out: Path) -> None:
    import matplotlib.pyplot as plt

    from ecodss.water.gb3838 import class_name
    from ecodss.water.plot import plot_profile
    from ecodss.water.sample_network import load_sample_river

    river = load_sample_river()
    # two conditions solved at once on the scenario dimension
    ds = river.solve(headwater_flow_factor=np.array([1.0, 0.5]),
                     temperature=np.array([15.0, 25.0]))
    sec = river.section_values(ds)
    print("1. Sample river, steady state — today (Q, 15 degC) | design low flow (Q/2, 25 degC)")
    for j, label in enumerate(("today", "low flow")):
        s = sec.isel(scenario=j)
        i = int(np.argmin(ds["DO"].isel(scenario=j).values))
        print(f"   {label:<9} DO minimum {float(ds['DO'].isel(scenario=j)[i]):.2f} mg/L at "
              f"{ds['river'].values[i]} km {ds['km'].values[i]:.1f}; sections: " + ", ".join(
                  f"{k} {class_name(int(c))} (DO {d:.2f}, NH3-N {n:.2f})" for k, c, d, n in zip(
                      s["section"].values, s["water_class"].values, s["DO"].values,
                      s["NH3_N"].values, strict=True)))
    fig = plot_profile(ds.isel(scenario=1), ("DO", "NH3_N", "CODMn"),
                       title="Qingshui He, design low flow (Q/2, 25 degC)",
                       sections=river.sections)
    fig.savefig(out / "sample_profile_lowflow.png", dpi=120)
    plt.close(fig)


def sample_spill(out: Path) -> None:
    import matplotlib.pyplot as plt

    from ecodss.water.network_spill import simulate_spill
    from ecodss.water.sample_network import load_sample_river
    from ecodss.water.spill import plot_spill

    river = load_sample_river(element_length=200.0)
    o = river.outfalls.set_index("id").loc["WWTP1"]
    conc, m = simulate_spill(river.network, 2000.0, o["reach"], o["x"], river.sections,
                             threshold=0.01, dt=300.0)
    print("2. Spill of 2 t (conservative) at the WWTP1 outfall")
    for k in m["section"].values:
        r = m.sel(section=k)
        print(f"   {k:<8} {float(r['distance']) / 1000:5.1f} km: arrival "
              f"{float(r['arrival_time']) / 3600:5.1f} h, peak "
              f"{float(r['peak_concentration']):5.2f} mg/L at {float(r['peak_time']) / 3600:5.1f}"
              f" h, above 0.01 mg/L for {float(r['time_above_threshold']) / 3600:5.1f} h, "
              f"withdrawn {float(r['mass_withdrawn']) / 1000:6.1f} kg")
    a = m.attrs
    closure = (a["mass_out"] + a["mass_withdrawn_total"] + a["mass_remaining"]
               - a["mass_released"]) / a["mass_released"]
    print(f"   mass budget closes to {closure:.1e} (relative)")
    ax = plot_spill(conc.values, conc["time"].values, m, threshold=0.01,
                    labels=list(conc["section"].values))
    ax.figure.savefig(out / "sample_spill.png", dpi=120)
    plt.close(ax.figure)


def boulder_creek(out: Path) -> None:
    from ecodss.evaluate import fb, nmse
    from ecodss.water.q2k import read_q2k
    from ecodss.water.sample_network import add_gb3838_items
    from ecodss.water.steady import solve_steady

    q2k = SHARED / "qual2kw_boulder_creek_BC_1987-08-21.q2k"
    if not q2k.is_file():
        print(f"3. Boulder Creek skipped: reference folder {SHARED.resolve()} not present")
        return
    case = read_q2k(q2k)
    net = case.network()
    temp = pd.read_csv(SHARED / "qual2kw_boulder_creek_noalgae_temperature.csv")
    kin = case.kinetics(temp["T_avg_C"].to_numpy()[1:], bottom_algae=False, ph=7.5)
    ds = add_gb3838_items(solve_steady(net, kin, case.boundary()))
    ref = pd.read_csv(SHARED / "qual2kw_boulder_creek_noalgae_wq_daily_avg.csv").iloc[1:]
    do_ref = ref["DO [mgO2/L]"].to_numpy()
    nh4_ref = ref["NH4 [ugN/L]"].to_numpy()
    print("3. Boulder Creek, steady, bottom algae off, vs QUAL2Kw 5.1 algae-off daily means: "
          f"max |dDO| {np.max(np.abs(ds['do'].values - do_ref)):.3f} mg/L, NH4 FB "
          f"{float(fb(nh4_ref, ds['nh4'].values)):+.3f}, NMSE "
          f"{float(nmse(nh4_ref, ds['nh4'].values)):.4f}")
    ds.to_dataframe()[["reach", "DO", "NH3_N"]].to_csv(out / "boulder_creek.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="ecodss-water-example")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    sample_sag(out)
    sample_spill(out)
    boulder_creek(out)
    print(f"figures and tables in {out}")


if __name__ == "__main__":
    main()
