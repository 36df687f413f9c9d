pvgtest.kunit=pvguest-detect,pvguest-ops,pvguest-ipi,pvballoon,pvblock
