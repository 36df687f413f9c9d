pvgtest.kunit=pvguest-detect
