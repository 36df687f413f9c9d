pvgtest.hv=tcg
pvgtest.sigs=0x40000000:tcg
