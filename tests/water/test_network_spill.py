"""Spill through the sample network: section ordering along the path, element lookup."""

import numpy as np
import pytest

from ecodss.errors import InvalidValueError
from ecodss.water.network_spill import downstream_path, simulate_spill
from ecodss.water.sample_network import _element_of, load_sample_river


@pytest.fixture(scope="module")
def river():
    return load_sample_river(n_elements=5)


def test_sections_come_out_in_flow_order_along_the_path(river):
    net = river.network
    top = net.reaches["reach"].iloc[0]
    sections = river.sections[["id", "element"]].iloc[::-1].reset_index(drop=True)  # reversed
    conc, _ = simulate_spill(net, 100.0, top, 0.0, sections, dt=900.0, duration=6 * 3600.0)
    path = downstream_path(net, int(_element_of(net, [top], [0.0])[0])).tolist()
    on = sections[sections["element"].isin(path)]
    expected = sorted(on["id"], key=lambda s: path.index(int(on.set_index("id").loc[s,
                                                                                   "element"])))
    assert len(expected) >= 2
    assert list(map(str, conc["section"].values)) == expected


def test_element_lookup_matches_reach_offsets_and_rejects_unknown_reaches(river):
    net = river.network
    r = net.reaches
    n_el = r["n_elements"].to_numpy()
    first = np.concatenate([[0], np.cumsum(n_el)[:-1]])
    # the last metre of every reach is in its last element, the top in its first
    length = r["length"].to_numpy(float)
    np.testing.assert_array_equal(_element_of(net, r["reach"], np.zeros(len(r))), first)
    np.testing.assert_array_equal(_element_of(net, r["reach"], length - 1.0), first + n_el - 1)
    with pytest.raises(InvalidValueError, match="reach"):
        _element_of(net, ["nowhere"], [0.0])
