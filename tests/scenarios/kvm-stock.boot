pvguest=off
pvgtest.hv=kvm
pvgtest.oplog=setup+PV+IPIs
