pvgtest.hv=kvm
pvgtest.sigs=0x40000000:kvm
pvgtest.feat=CLOCKSOURCE,NOP_IO_DELAY,CLOCKSOURCE2,ASYNC_PF,STEAL_TIME,PV_EOI,PV_UNHALT,PV_TLB_FLUSH,PV_SEND_IPI,POLL_CONTROL,PV_SCHED_YIELD,ASYNC_PF_INT,CLOCKSOURCE_STABLE
pvgtest.ops=ipi:hypercall,tlb:shared-memory,spin:hypercall,yield:hypercall,steal:shared-memory,eoi:shared-memory,clock:shared-memory,pollctl:msr,iodelay:no-op
pvgtest.moves=ipi_calls,ipi_hypercalls,hypercalls
pvgtest.inject=3
pvgtest.oplog=setup+PV+IPIs+.pvguest
