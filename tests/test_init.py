"""The package namespace: public names, imported on first use."""


def test_lazy_exports_are_the_public_api():
    import pymc_robust_alloc

    assert sorted(pymc_robust_alloc.__all__) == sorted(pymc_robust_alloc._EXPORTS)
    for name in pymc_robust_alloc.__all__:
        assert getattr(pymc_robust_alloc, name).__name__ == name
