nopv
pvgtest.hv=kvm
pvgtest.sigs=0x40000000:kvm
pvgtest.ops=ipi:native,tlb:native,spin:native,yield:native,steal:native,eoi:native,clock:native,pollctl:native,iodelay:native
pvgtest.opsreason=ipi:nopv,tlb:nopv,spin:nopv,clock:nopv
pvgtest.still=all
