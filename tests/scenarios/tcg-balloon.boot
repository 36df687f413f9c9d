pvgtest.balloon=pvballoon
pvgtest.only=balloon
