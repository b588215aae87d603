; SPDX-License-Identifier: GPL-2.0-or-later
;
; Triple-fault disk: a raw hard-disk image whose boot sector prints
; "VSA-TRIPLE" on COM1, then loads an interrupt table of limit 0 and raises
; INT 3. The vector lies outside the table, and so does every exception
; that follows: the processor shuts down (a triple fault), as a guest
; kernel with a corrupt IDT does. For the processor-error tests (the
; VirtualMachineProcessorError event, IVMVirtualMachineEvents.OnTripleFault).
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
        jz .fault
        mov dx, COM1
        out dx, al
        jmp .print
.fault: lidt [empty_idt]
        int 3
.hang:  hlt                             ; not reached
        jmp .hang

empty_idt:
        dw 0                            ; limit 0: no vector fits
        dd 0
message: db `VSA-TRIPLE\n`, 0

        times 510 - ($ - $$) db 0
        dw 0AA55h
        times DISK_SECTORS * 512 - ($ - $$) db 0
