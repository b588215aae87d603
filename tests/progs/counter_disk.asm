; SPDX-License-Identifier: GPL-2.0-or-later
;
; Counter disk: a raw hard-disk image whose boot sector counts forever,
; one line on COM1 per BIOS timer tick (18.2 Hz):
;
;   VSA-COUNTER <count> <ticks>
;
; <count> goes up by one per line and lives in guest RAM, so a guest that is
; saved and restored (or paused and resumed) goes on from where it was: the
; lifecycle tests read the serial log across those and check the count never
; restarts or skips. <ticks> is the BIOS tick count (0040:006C), which moves
; with the virtual clock: across a pause it must not jump (a resumed clock
; that ran on would deliver a burst of late timer ticks). A reset or a fresh
; boot prints "VSA-COUNTER-BOOT" first and starts again at 1.
;
; Between lines the CPU halts until the next interrupt, so a running VM
; costs almost no host CPU, even under the sanitizers.
;
; Image: 2 cylinders x 16 heads x 63 sectors (1008 KiB), like boot_disk.img,
; so BIOS geometry guesses agree; only sector 0 holds code.

bits 16
org 7C00h

%include "com1.asm"

TICKS   equ 46Ch                        ; BIOS data area: timer ticks since midnight
DISK_SECTORS equ 2 * 16 * 63

start:
        jmp 0:main                      ; some BIOSes enter at 07C0:0000
main:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        cld
        com1_init
        sti
        mov si, banner
        call puts
        mov dword [count], 0

.next:  inc dword [count]
        mov si, prefix
        call puts
        mov eax, [count]
        call put_decimal
        mov al, ' '
        call putc
        mov eax, [TICKS]
        call put_decimal
        mov al, 10
        call putc
        ; Wait for the next tick: HLT until the BIOS counter moves.
        mov ebx, [TICKS]
.wait:  hlt
        cmp ebx, [TICKS]
        je .wait
        jmp .next

; putc, puts, put_decimal (com1.asm).
        com1_decimal_routines

banner: db `VSA-COUNTER-BOOT\n`, 0
prefix: db "VSA-COUNTER ", 0

        align 4
count:  dd 0

        times 510 - ($ - $$) db 0
        dw 0AA55h
        times DISK_SECTORS * 512 - ($ - $$) db 0
