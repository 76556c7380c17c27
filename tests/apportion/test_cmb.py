"""CMB (effective-variance least squares): exact recovery, SE coverage over many noisy samples,
collinearity diagnostics, labelled I/O and validation."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.apportion.cmb import CollinearityWarning, cmb
from ecodss.errors import InvalidValueError, MissingFieldError, OutOfRangeError


def case(n, seed=0, I=12, J=4):
    rng = np.random.default_rng(seed)
    F = rng.uniform(0.0, 0.3, (I, J))
    F[rng.random((I, J)) < 0.4] *= 0.05
    species = [f"s{i}" for i in range(I)]
    sources = [f"src{j}" for j in range(J)]
    S = rng.uniform(2.0, 20.0, (n, J))
    return rng, pd.DataFrame(F, index=species, columns=sources), S


def test_exact_data_recovered_to_1e8():
    _, P, S = case(50)
    C = pd.DataFrame(S @ P.to_numpy().T, columns=P.index)
    ds = cmb(C, P, sample_unc=0.1 * C + 0.05, profile_unc=0.1 * P)
    np.testing.assert_allclose(ds["contribution"].values, S, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ds["chi2"], 0.0, atol=1e-12)
    np.testing.assert_allclose(ds["r2"], 1.0, atol=1e-12)
    assert (ds["dof"] == 8).all()
    assert ds["converged"].all()


def test_wls_se_coverage_over_many_samples():
    rng, P, S = case(600, seed=1)
    C = S @ P.to_numpy().T
    U = 0.1 * C + 0.2
    Cn = pd.DataFrame(C + rng.normal(size=C.shape) * U, columns=P.index)
    ds = cmb(Cn, P, sample_unc=pd.DataFrame(U, columns=P.index))
    inside = np.abs(ds["contribution"].values - S) <= 1.96 * ds["std_error"].values
    assert 0.92 <= inside.mean() <= 0.98
    assert 0.9 < float(ds["chi2"].mean()) < 1.1  # reduced χ² ≈ 1 with correct uncertainties


def test_effective_variance_coverage_with_profile_noise():
    """Each sample's true profiles deviate from the given ones by σ_F: the effective variance
    carries that error into the weights and SEs (Watson et al. 1984)."""
    rng, P, S = case(600, seed=2)
    F = P.to_numpy()
    PU = 0.1 * F
    n, (I, J) = len(S), F.shape
    F_true = F[None] + rng.normal(size=(n, I, J)) * PU[None]
    U = 0.05 * (S @ F.T) + 0.1
    C = np.einsum("nij,nj->ni", F_true, S) + rng.normal(size=(n, I)) * U
    ds = cmb(pd.DataFrame(C, columns=P.index), P, sample_unc=pd.DataFrame(U, columns=P.index),
             profile_unc=pd.DataFrame(PU, index=P.index, columns=P.columns))
    inside = np.abs(ds["contribution"].values - S) <= 1.96 * ds["std_error"].values
    assert 0.92 <= inside.mean() <= 0.98
    assert int(ds["iterations"].max()) > 1
    # ordinary WLS ignoring the profile error gives too-narrow intervals here
    wls = cmb(pd.DataFrame(C, columns=P.index), P, sample_unc=pd.DataFrame(U, columns=P.index))
    inside_wls = np.abs(wls["contribution"].values - S) <= 1.96 * wls["std_error"].values
    assert inside_wls.mean() < inside.mean() - 0.05


def test_statistics_match_definitions_and_percent_mass():
    rng, P, S = case(5, seed=3)
    C = S @ P.to_numpy().T
    U = 0.1 * C + 0.1
    Cn = C + rng.normal(size=C.shape) * U
    X = pd.DataFrame(Cn, columns=P.index)
    X["PM2.5"] = S.sum(1) * 1.25
    ds = cmb(X, P, sample_unc=pd.DataFrame(U, columns=P.index), mass="PM2.5")
    # independent check of one sample with numpy's weighted lstsq
    w = 1 / U[0] ** 2
    A = P.to_numpy() * np.sqrt(w)[:, None]
    s, *_ = np.linalg.lstsq(A, Cn[0] * np.sqrt(w), rcond=None)
    np.testing.assert_allclose(ds["contribution"].values[0], s, rtol=1e-10)
    cov = np.linalg.inv(A.T @ A)
    np.testing.assert_allclose(ds["std_error"].values[0], np.sqrt(np.diag(cov)), rtol=1e-10)
    res = Cn[0] - P.to_numpy() @ s
    np.testing.assert_allclose(float(ds["chi2"][0]), (res**2 * w).sum() / 8, rtol=1e-10)
    np.testing.assert_allclose(ds["t_stat"], ds["contribution"] / ds["std_error"])
    np.testing.assert_allclose(ds["percent_mass_total"], 100 / 1.25 * ds["sum_contribution"]
                               / S.sum(1), rtol=1e-12)


def test_collinear_profiles_warn():
    _, P, S = case(10, seed=4)
    P["twin"] = P["src0"] * 1.02 + 1e-4  # near copy of src0
    C = pd.DataFrame(S @ P[["src0", "src1", "src2", "src3"]].to_numpy().T, columns=P.index)
    with pytest.warns(CollinearityWarning):
        ds = cmb(C, P, sample_unc=0.1 * C + 0.05)
    assert ds["collinear"].all()
    assert (ds["condition_index"] > 30).all()
    ok = cmb(C, P.drop(columns="twin"), sample_unc=0.1 * C + 0.05)
    assert not ok["collinear"].any()


def test_xarray_input_and_single_series():
    _, P, S = case(3, seed=5)
    C = pd.DataFrame(S @ P.to_numpy().T, columns=P.index, index=["a", "b", "c"])
    da = xr.DataArray(C.to_numpy(), dims=("sample", "species"),
                      coords={"sample": ["a", "b", "c"], "species": list(P.index)})
    prof = xr.DataArray(P.to_numpy(), dims=("species", "source"),
                        coords={"species": list(P.index), "source": list(P.columns)})
    a = cmb(da, prof, sample_unc=0.1 * da + 0.1)
    b = cmb(C, P, sample_unc=0.1 * C + 0.1)
    xr.testing.assert_allclose(a["contribution"], b["contribution"])
    one = cmb(C.loc["b"], P, sample_unc=0.1 * C.loc["b"] + 0.1)
    np.testing.assert_allclose(one["contribution"].values[0], S[1], atol=1e-8)


def test_validation():
    _, P, S = case(3)
    C = pd.DataFrame(S @ P.to_numpy().T, columns=P.index)
    with pytest.raises(MissingFieldError):
        cmb(C.drop(columns="s3"), P)
    with pytest.raises(OutOfRangeError):
        cmb(C, P, sample_unc=C * 0.0)
    with pytest.raises(InvalidValueError):
        cmb(C, P, species=["s0", "s1", "s2"])
    bad = C.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(InvalidValueError):
        cmb(bad, P)
