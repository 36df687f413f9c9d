pvgtest.hv=unknown
pvgtest.ops=ipi:native,tlb:native,spin:native,yield:native,steal:native,eoi:native,clock:native,pollctl:native,iodelay:native
pvgtest.still=all
