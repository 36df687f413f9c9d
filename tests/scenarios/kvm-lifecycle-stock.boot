pvguest=off
pvgtest.hv=kvm
pvgtest.oplog=setup+PV+IPIs
pvgtest.still=ipi_calls,ipi_hypercalls,hypercalls
pvgtest.chain=suspend,sleep,reboot,kexec,crash
pvgtest.after=ops,shared,counters,lifecycle
crashkernel=192M
