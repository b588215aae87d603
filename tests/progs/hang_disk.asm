; SPDX-License-Identifier: GPL-2.0-or-later
;
; Hang disk: a raw hard-disk image whose boot sector prints "VSA-HANG" on
; COM1 and then stops for good - HLT with interrupts off, as a crashed
; guest kernel does. The VM stays Running but its guest makes no progress,
; for the heartbeat tests (IVMGuestOS.IsHeartbeating, the
; OnHeartbeatStopped event).
;
; Image: 2 cylinders x 16 heads x 63 sectors, like counter_disk.img.

bits 16
org 7C00h

%include "com1.asm"

DISK_SECTORS equ 2 * 16 * 63

start:
        jmp 0:main
main:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 7C00h
        cld
        com1_init
        mov si, message
.print: lodsb
        test al, al
        jz .hang
        mov dx, COM1
        out dx, al
        jmp .print
.hang:  cli
        hlt
        jmp .hang

message: db `VSA-HANG\n`, 0

        times 510 - ($ - $$) db 0
        dw 0AA55h
        times DISK_SECTORS * 512 - ($ - $$) db 0
