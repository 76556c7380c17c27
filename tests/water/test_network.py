"""River network: flow balance through junctions, sources and withdrawals; travel time."""

import numpy as np
import pandas as pd
import pytest

from ecodss.errors import InvalidValueError, NegativeValueError, UnknownFieldError
from ecodss.water.network import RiverNetwork


def tree(**kw):
    reaches = pd.DataFrame({
        "reach": ["A", "B", "C"], "downstream": ["C", "C", None], "length": [5000.0, 3000.0, 8000.0],
        "n_elements": [10, 6, 16], "headwater_flow": [2.0, 1.0, 0.0], "bottom_width": [10, 8, 15],
        "slope": [1e-3, 1e-3, 5e-4], "manning_n": [0.03, 0.03, 0.03]})
    sources = pd.DataFrame({
        "name": ["wwtp", "gw", "intake"], "kind": ["point", "diffuse", "withdrawal"],
        "reach": ["A", "C", "C"], "x": [1200.0, 0.0, 4000.0], "x_end": [np.nan, 8000.0, np.nan],
        "flow": [0.5, 0.8, 1.0]})
    return RiverNetwork(reaches, sources, **kw)


def test_flows_add_up_through_junctions_sources_and_withdrawals():
    net = tree()
    q = net.flows()
    el = net.element_table()
    a = el.index[el.reach == "A"]
    assert q[a[0]] == pytest.approx(2.0)          # above the outfall at x = 1200 m (element 2)
    assert q[a[2]] == pytest.approx(2.5)
    assert q[a[-1]] == pytest.approx(2.5)
    c = el.index[el.reach == "C"]
    assert q[c[0]] == pytest.approx(3.5 + 0.8 / 16)  # junction + first diffuse share
    assert q[c[-1]] == pytest.approx(3.5 + 0.8 - 1.0)
    assert np.all(np.diff(q[c]) > -1.0 - 1e-12)


def test_flows_vectorized_over_scenarios():
    net = tree()
    base = net.source_flows()
    scen = base[:, None] * np.array([0.5, 1.0, 2.0])
    q = net.flows(scen)
    np.testing.assert_allclose(q[:, 1], net.flows())
    np.testing.assert_allclose(q[:, 2], net.flows(base * 2.0))


def test_travel_time_on_a_chain_is_sum_of_residence_times():
    net = RiverNetwork(pd.DataFrame({"reach": ["r"], "length": [1000.0], "n_elements": [4],
                                     "headwater_flow": [2.0], "velocity_coef": [0.5],
                                     "velocity_exp": [0.0], "depth_coef": [1.0], "depth_exp": [0.0]}))
    h = net.hydraulics()
    np.testing.assert_allclose(h.travel_time, np.arange(1, 5) * 250.0 / 0.5 / 86400.0)


def test_distance_to_outlet_and_topological_order():
    net = tree()
    el = net.element_table()
    assert el.distance_to_outlet.iloc[-1] == pytest.approx(250.0)
    assert el.distance_to_outlet.iloc[0] == pytest.approx(8000 + 5000 - 250)
    assert np.all(el.downstream[el.downstream >= 0] > el.index[el.downstream >= 0])


def test_validation_errors_name_the_field():
    good = pd.DataFrame({"reach": ["a"], "length": [100.0], "headwater_flow": [1.0],
                         "velocity_coef": [1.0], "depth_coef": [1.0]})
    with pytest.raises(UnknownFieldError, match="lenght"):
        RiverNetwork(good.rename(columns={"length": "lenght"}).assign(length=1.0))
    with pytest.raises(InvalidValueError, match="cycle"):
        RiverNetwork(pd.DataFrame({"reach": ["a", "b"], "downstream": ["b", "a"], "length": [1.0, 1.0]}))
    with pytest.raises(InvalidValueError, match="downstream reach 'zz'"):
        RiverNetwork(good.assign(downstream="zz"))
    with pytest.raises(NegativeValueError, match="withdrawals exceed"):
        RiverNetwork(good, pd.DataFrame({"name": ["w"], "kind": ["withdrawal"], "reach": ["a"],
                                         "x": [10.0], "flow": [2.0]})).flows()
    with pytest.raises(InvalidValueError, match="kind"):
        RiverNetwork(good, pd.DataFrame({"name": ["w"], "kind": ["pipe"], "reach": ["a"], "flow": [2.0]}))
