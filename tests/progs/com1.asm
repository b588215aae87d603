; SPDX-License-Identifier: GPL-2.0-or-later
; COM1 for the test disks (%include "com1.asm"): the port and one way of
; setting the UART up, so every program that the tests read through the
; serial log programs it the same.
COM1    equ 3F8h

; 115200 8N1 (divisor latch 1), FIFOs on and cleared. Clobbers AL and DX.
%macro com1_init 0
        mov dx, COM1 + 3
        mov al, 80h             ; DLAB: the next two ports are the divisor
        out dx, al
        mov dx, COM1
        mov al, 1
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 03h             ; 8 data bits, no parity, 1 stop; DLAB off
        out dx, al
        mov dx, COM1 + 2
        mov al, 07h
        out dx, al
%endmacro
