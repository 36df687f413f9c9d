pvguest=off
pvgtest.hv=kvm
pvgtest.oplog=setup+PV+IPIs
pvgtest.still=ipi_calls,ipi_hypercalls,hypercalls
