pvgtest.hv=kvm
pvgtest.sigs=0x40000000:kvm
pvgtest.feat=PV_TLB_FLUSH,PV_SCHED_YIELD
pvgtest.nofeat=PV_SEND_IPI,PV_UNHALT
pvgtest.ops=ipi:native,tlb:shared-memory,spin:native
pvgtest.opsreason=ipi:offer,spin:offer
pvgtest.still=ipi_calls,ipi_hypercalls,hypercalls,spin_kicks,spin_waits
