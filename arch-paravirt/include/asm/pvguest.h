/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvguest hooks called from the stock KVM guest code.
 */
#ifndef _ASM_X86_PVGUEST_H
#define _ASM_X86_PVGUEST_H

#include <linux/types.h>

#ifdef CONFIG_PVGUEST
u32 pvg_kvm_features(u32 offered);
#else
static inline u32 pvg_kvm_features(u32 offered)
{
	return offered;
}
#endif

#endif /* _ASM_X86_PVGUEST_H */
