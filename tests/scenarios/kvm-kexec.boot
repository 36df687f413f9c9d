pvgtest.hv=kvm
pvgtest.only=ops,shared,lifecycle
pvgtest.ops=ipi:hypercall,tlb:shared-memory,spin:hypercall,yield:hypercall,steal:shared-memory,eoi:shared-memory,clock:shared-memory
pvgtest.chain=suspend,sleep,reboot,kexec-nopv
pvgtest.after=ops,shared,lifecycle
