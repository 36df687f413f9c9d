pvguest=off
pvgtest.hv=kvm
pvgtest.oplog=setup+PV+IPIs
pvgtest.moves=ipi_calls,ipi_hypercalls
