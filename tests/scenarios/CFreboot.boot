# Added by pvgtest to every scenario whose pvgtest.chain= has a reboot step:
# 1 MiB of RAM at 240 MiB, kept from the kernel, where ramoops records
# across the reset the console, the step's pmsg note and the kernel log as
# it stood when the kernel restarted (max_reason=4, KMSG_DUMP_SHUTDOWN).
# Such a scenario needs at least 256 MiB (-m in NAME.qemu).
memmap=1M$0x0f000000
ramoops.mem_address=0x0f000000
ramoops.mem_size=0x100000
ramoops.console_size=0x40000
ramoops.pmsg_size=0x10000
ramoops.record_size=0x20000
ramoops.max_reason=4
