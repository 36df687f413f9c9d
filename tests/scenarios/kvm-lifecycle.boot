pvgtest.hv=kvm
pvgtest.ops=ipi:hypercall,tlb:shared-memory,spin:hypercall,yield:hypercall,steal:shared-memory,eoi:shared-memory,clock:shared-memory
pvgtest.moves=ipi_calls,ipi_hypercalls,hypercalls
pvgtest.chain=suspend,sleep,reboot,kexec,crash
pvgtest.after=ops,shared,counters,lifecycle
crashkernel=192M
