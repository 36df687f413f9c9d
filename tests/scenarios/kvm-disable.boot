pvguest.disable=ipi,tlb,bogus,yield
pvgtest.hv=kvm
pvgtest.ops=ipi:native,tlb:native,yield:native,spin:hypercall,steal:shared-memory,eoi:shared-memory,clock:shared-memory
pvgtest.opsreason=ipi:command,tlb:command,yield:command
pvgtest.oplog=unknown+operation+name
pvgtest.still=ipi_calls,ipi_hypercalls,tlb_flush_skipped,yields
