pvgtest.kunit=pvguest-detect,pvguest-ops
