pvgtest.hv=tcg
pvgtest.sigs=0x40000000:tcg
pvgtest.ops=ipi:native,tlb:native,spin:native,yield:native,steal:native,eoi:native,clock:native,pollctl:native,iodelay:native
pvgtest.opsreason=ipi:hypercall,clock:hypercall
pvgtest.still=all
