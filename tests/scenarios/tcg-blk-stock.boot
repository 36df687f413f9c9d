pvgtest.blk=virtio_blk
pvgtest.only=block
