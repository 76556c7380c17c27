"""Boulder Creek (Colorado, 21 Aug 1987) against QUAL2Kw 5.1 and the field data.

Water temperature is *given* (ecodss does not simulate the heat balance): the QUAL2Kw reach
temperatures (daily mean, min, max) with a diel cosine peaking at 17:00 at the headwater plus the
travel time. pH is given as 7.5 (only the small un-ionized ammonia fraction depends on it).
"""

import numpy as np
import pandas as pd
import pytest

from ecodss.evaluate import fb, nmse
from ecodss.water.dynamic import solve_dynamic
from ecodss.water.q2k import read_q2k
from ecodss.water.steady import solve_steady

STATIONS = [13.3875, 8.075, 3.825, 0.425]   # reach midpoints; 13.6 is the headwater boundary


@pytest.fixture(scope="module")
def bc(shared_dir):
    w = shared_dir / "water"
    case = read_q2k(w / "qual2kw_boulder_creek_BC_1987-08-21.q2k")
    net = case.network()
    hyd = net.hydraulics()
    temp = pd.read_csv(w / "qual2kw_boulder_creek_temperature.csv")
    mean, tmin, tmax = (temp[k].to_numpy()[1:, None] for k in ("T_avg_C", "T_min_C", "T_max_C"))
    phase = 17 / 24 + hyd.travel_time[:, None]

    def diel_temperature(t):
        return mean + (tmax - tmin) / 2 * np.cos(2 * np.pi * (t - phase))

    return dict(case=case, net=net, hyd=hyd, w=w, mean_temperature=mean[:, 0],
                temperature=diel_temperature,
                ref=pd.read_csv(w / "qual2kw_boulder_creek_wq_daily_avg.csv"),
                ref_off=pd.read_csv(w / "qual2kw_boulder_creek_noalgae_wq_daily_avg.csv"),
                obs=pd.read_csv(w / "boulder_creek_1987-08-21_observed_wq.csv"))


def at_stations(values, x_mid):
    idx = [int(np.argmin(np.abs(x_mid - s))) for s in STATIONS]
    return np.asarray(values)[idx]


def test_hydraulics_within_1_percent_of_qual2kw(bc):
    ref = pd.read_csv(bc["w"] / "qual2kw_boulder_creek_hydraulics.csv").iloc[1:]
    h = bc["hyd"]
    for ours, col in ((h.flow, "Q_m3s"), (h.depth, "H_m"), (h.velocity, "U_ms"),
                      (h.area, "Ac_m2"), (h.travel_time, "travel_time_d")):
        np.testing.assert_allclose(ours, ref[col], rtol=0.01)
    # reaeration as used: specified ka(20) on every reach
    np.testing.assert_allclose(bc["case"].specified_ka(), ref["ka20_per_d"], rtol=1e-5)


def test_travel_time_within_5_percent_of_dye(bc):
    obs = bc["case"].observations["hydraulics"]
    x_end = bc["case"].reaches["x_km"].to_numpy()
    for x, tt in zip(obs["x_km"], obs["travel_time"], strict=True):
        ours = bc["hyd"].travel_time[int(np.argmin(np.abs(x_end - x)))]
        assert ours == pytest.approx(tt, rel=0.05)


@pytest.fixture(scope="module")
def algae_off_steady(bc):
    kin = bc["case"].kinetics(bc["mean_temperature"], bottom_algae=False, ph=7.5)
    return solve_steady(bc["net"], kin, bc["case"].boundary())


def _check_algae_off(ds_mean, bc):
    ref = bc["ref_off"].iloc[1:]
    x = ref["x [km]"].to_numpy()
    do = at_stations(ds_mean["do"].values, x)
    assert np.max(np.abs(do - at_stations(ref["DO [mgO2/L]"], x))) < 0.3
    for sp, col in (("nh4", "NH4 [ugN/L]"), ("no3", "NO3 [ugN/L]")):
        np.testing.assert_allclose(at_stations(ds_mean[sp].values, x), at_stations(ref[col], x), rtol=0.15)
    # the headwater station is the boundary itself
    hw = bc["case"].boundary().loc["R01"]
    assert hw["do"] == pytest.approx(bc["ref_off"]["DO [mgO2/L]"].iloc[0], abs=0.3)


def test_algae_off_steady_daily_mean_matches_qual2kw(algae_off_steady, bc):
    _check_algae_off(algae_off_steady, bc)


def test_algae_off_dynamic_daily_mean_matches_qual2kw(algae_off_steady, bc):
    case, net = bc["case"], bc["net"]
    kin = case.kinetics(bc["temperature"], bottom_algae=False, ph=7.5)
    ini = np.stack([algae_off_steady[s].values for s in kin.species])
    ds = solve_dynamic(net, kin, case.boundary_function(net, kin.species), t_end=2.0, dt=1 / 24,
                       initial=ini)
    _check_algae_off(ds.sel(time=slice(1.0 + 1e-9, 2.0)).mean("time"), bc)


def test_bottom_algae_dynamic_daily_mean_do_and_observations(algae_off_steady, bc):
    case, net = bc["case"], bc["net"]
    kin = case.kinetics(bc["temperature"], bottom_algae=True, ph=7.5)
    a0 = case.initial_bottom_algae()
    water = np.stack([algae_off_steady[s].values for s in kin.species[:-3]])
    rates = kin.params
    ini = np.concatenate([water, a0[None], rates.ana / rates.ada * a0[None], rates.mg_p / rates.ada * a0[None]])
    days = 5.0                                   # as the QUAL2Kw run
    ds = solve_dynamic(net, kin, case.boundary_function(net, kin.species), t_end=days, dt=1 / 24,
                       initial=ini)
    last = ds.sel(time=slice(days - 1 + 1e-9, days))
    ref = bc["ref"].iloc[1:]
    x = ref["x [km]"].to_numpy()
    do = at_stations(last["do"].mean("time").values, x)
    assert np.max(np.abs(do - at_stations(ref["DO [mgO2/L]"], x))) < 0.5
    # diel swing exists (photosynthesis by day, respiration by night)
    assert np.all(at_stations(last["do"].max("time") - last["do"].min("time"), x)[1:] > 3.0)
    # against the field data (all five stations, the headwater from the boundary): FB/NMSE
    obs = bc["obs"][bc["obs"].statistic == "mean"]
    model = np.concatenate([[case.boundary().loc["R01", "do"]], do])
    f, m = float(fb(obs["DO_mgL"].to_numpy(), model)), float(nmse(obs["DO_mgL"].to_numpy(), model))
    assert abs(f) < 0.3 and m < 0.1, (f, m)
