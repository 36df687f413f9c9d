pvgtest.hv=unknown
