pvguest.disable=ipi,bogus,yield
pvgtest.hv=kvm
pvgtest.ops=ipi:native,yield:native,tlb:shared-memory,spin:hypercall,steal:shared-memory,eoi:shared-memory,clock:shared-memory
pvgtest.opsreason=ipi:command,yield:command
pvgtest.oplog=unknown+operation+name
pvgtest.still=ipi_calls,ipi_hypercalls,yields,hypercalls
