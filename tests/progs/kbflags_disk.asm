; SPDX-License-Identifier: GPL-2.0-or-later
;
; Keyboard-flags disk: a raw hard-disk image whose boot sector asks the BIOS
; for its keyboard shift flags (INT 16h AH=02h, the byte at BDA 417h that
; DOS and Linux's setup code read at boot) and prints them in decimal on
; COM1 as "VSA-KBFLAGS <n>", then powers off. Bit 5 (32) is Num Lock: the
; BIOS settings tests (Num Lock at boot) check it.
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
        mov si, prefix
        call puts
        mov ah, 02h
        int 16h
        movzx eax, al
        call put_decimal
        mov al, `\n`
        call putc
        jmp power_off

        com1_decimal_routines
        power_off_routine

prefix: db "VSA-KBFLAGS ", 0

        times 510 - ($ - $$) db 0
        dw 0AA55h
        times DISK_SECTORS * 512 - ($ - $$) db 0
