pvgtest.hv=kvm
pvgtest.sigs=0x40000000:kvm
pvgtest.feat=PV_UNHALT,PV_TLB_FLUSH,PV_SCHED_YIELD
pvgtest.nofeat=PV_SEND_IPI
pvgtest.ops=ipi:native,tlb:shared-memory,spin:hypercall
pvgtest.opsreason=ipi:offer
pvgtest.still=ipi_calls,ipi_hypercalls,hypercalls
