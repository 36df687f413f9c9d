pvgtest.blk=pvblock
pvgtest.only=block
