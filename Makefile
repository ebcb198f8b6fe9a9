# SPDX-License-Identifier: GPL-2.0
#
# rwlayer: top-level build.  See README for the variables.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build
KERNELS ?= $(shell scripts/kernels.sh)
CHECKPATCH ?= $(shell scripts/kernel-source.sh)/scripts/checkpatch.pl
KSRC_FILES := $(wildcard kmod/*.c kmod/*.h kmod/compat/*.c kmod/compat/*.h)
KBUILD_FILES := Kbuild kmod/compat/Kbuild.include
RWLAYER_CACHE ?= /var/cache/rwlayer
export BUILD

# A target kernel's build tree: Debian's (linux-headers), or that of the
# debug kernel scripts/debug-kernel.sh built, in its cache.
kdir_of = $(firstword $(wildcard $(RWLAYER_CACHE)/debug-kernel/$(1)/build) /lib/modules/$(1)/build)

all: module

module:
	@test -e $(KDIR)/Makefile || { echo "no kernel headers at $(KDIR): install linux-headers-$(KVER) or pass KVER=/KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-debug:
	$(MAKE) -C $(KDIR) M=$(CURDIR) ccflags-y+=-DDEBUG modules

module-install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(KVER)

# One module per target kernel, each built in its own copy of the sources
# so that two kernels never share object files.  W=1 and sparse run here;
# any warning from our files fails the build.
$(BUILD)/%/rwlayer.ko: $(KBUILD_FILES) $(KSRC_FILES) kmod/VERSION
	@rm -rf $(BUILD)/$*/src && mkdir -p $(BUILD)/$*/src
	@cp -r Kbuild kmod $(BUILD)/$*/src/
	$(MAKE) -C $(call kdir_of,$*) M=$(BUILD)/$*/src W=1 C=1 modules \
		> $(BUILD)/$*/build.log 2>&1 || { cat $(BUILD)/$*/build.log; exit 1; }
	@if grep -E 'warning:|error:' $(BUILD)/$*/build.log; then \
		echo "$*: the build is not warning-free" >&2; exit 1; fi
	@cp $(BUILD)/$*/src/rwlayer.ko $@
	@echo "built $@"

modules-all: $(foreach k,$(KERNELS),$(BUILD)/$(k)/rwlayer.ko)

selftests:
	$(MAKE) -C selftests OUTPUT=$(BUILD)/selftests

userspace:
	$(MAKE) -C userspace OUTPUT=$(BUILD)/userspace all

userspace-install:
	$(MAKE) -C userspace OUTPUT=$(BUILD)/userspace install

# The boot integration: initramfs-tools hook and boot script, dracut module.
boot-install:
	install -D -m 0755 scripts/initramfs-tools/hooks/rwlayer \
		$(DESTDIR)/usr/share/initramfs-tools/hooks/rwlayer
	install -D -m 0755 scripts/initramfs-tools/scripts/init-bottom/rwlayer \
		$(DESTDIR)/usr/share/initramfs-tools/scripts/init-bottom/rwlayer
	install -D -m 0755 -t $(DESTDIR)/usr/lib/dracut/modules.d/90rwlayer \
		scripts/dracut/90rwlayer/module-setup.sh scripts/dracut/90rwlayer/rwlayer-root.sh

# Everything but the module (DKMS installs that): tools, unit, boot scripts.
install: userspace-install boot-install

style:
	$(CHECKPATCH) --no-tree --strict --show-types --ignore SPDX_LICENSE_TAG -f $(KSRC_FILES)

# The guest tests alone, without the host checks of make check.
test-vm: modules-all selftests
	@for k in $(KERNELS); do scripts/vm/run.sh $$k test $(BUILD)/$$k/vm-test || exit 1; done

# The crash test alone (scripts/vm/crash-test.sh): copy-up on an ext4
# upper across a guest reset.
test-crash: modules-all
	@for k in $(KERNELS); do scripts/vm/crash-test.sh $$k || exit 1; done

check:
	@scripts/check.sh

# The debug kernel lane (README): Debian's linux-source-6.12 built with
# KASAN, lockdep and fault injection, cached in $(RWLAYER_CACHE).  make
# check runs the lane when that kernel is built; check-debug builds it
# first if needed and runs only the lane.
debug-kernel:
	scripts/debug-kernel.sh build

check-debug:
	@scripts/check.sh --debug

# Diskless clients end to end (scripts/e2e/README): PXE, NFS/NBD root,
# rwlayer from DKMS in the initramfs; about 15 min with a cached root.
e2e:
	scripts/e2e/e2e.sh

bench:
	scripts/bench.sh

demo:
	scripts/demo.sh

dkms-install:
	scripts/dkms.sh install

clean:
	rm -rf $(BUILD)
	$(MAKE) -C selftests clean OUTPUT=$(BUILD)/selftests 2>/dev/null || true
	rm -f kmod/*.o kmod/.*.cmd *.o .*.cmd *.ko *.mod *.mod.c modules.order Module.symvers

.PHONY: all module module-debug module-install modules-all selftests userspace userspace-install boot-install install style test-vm test-crash check debug-kernel check-debug e2e bench demo dkms-install clean
