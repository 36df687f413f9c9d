pvgtest.balloon_total=pvballoon
pvgtest.only=balloon-total
