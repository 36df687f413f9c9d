pvgtest.balloon=virtio_balloon
pvgtest.only=balloon
