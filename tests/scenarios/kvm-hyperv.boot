pvgtest.hv=kvm
pvgtest.sigs=0x40000000:hyperv,0x40000100:kvm
pvgtest.feat=PV_SEND_IPI,PV_UNHALT
pvgtest.ops=ipi:hypercall,spin:hypercall
pvgtest.moves=ipi_hypercalls
