pvguest.disable=tlb,steal
pvgtest.hv=kvm
pvgtest.ops=tlb:native,steal:native,yield:native,ipi:hypercall,spin:hypercall
pvgtest.opsreason=tlb:command,steal:command,yield:steal
pvgtest.still=tlb_flush_skipped,yields
