; SPDX-License-Identifier: GPL-2.0-or-later
;
; Keys disk: a raw hard-disk image for the console test
; (tests/appliance/test_console.py). Its boot sector paints rows 0-4 of the
; text screen with light-red full blocks (so a console frame is never
; blank), prints "VSA-KEYS-READY" on COM1, then echoes every key the BIOS
; reads (INT 16h, which SeaBIOS fills from the PS/2 keyboard's IRQ 1) to
; the screen (INT 10h teletype, from row 12) and to COM1. So what a console
; viewer types shows up in the guest's screen and serial log.
;
; Image: 2 cylinders x 16 heads x 63 sectors, like the disks of tests/progs.

bits 16
org 7C00h

%include "com1.asm"

DISK_SECTORS equ 2 * 16 * 63
TEXT    equ 0B800h

start:
        jmp 0:main
main:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 7C00h
        cld
        sti
        mov ax, TEXT
        mov es, ax
        xor di, di
        mov ax, 0720h
        mov cx, 80 * 25
        rep stosw
        xor di, di
        mov ax, 0CDBh
        mov cx, 80 * 5
        rep stosw
        ; The teletype cursor to row 12, column 0 (page 0).
        mov ah, 02h
        xor bh, bh
        mov dx, 0C00h
        int 10h
        com1_init
        mov si, ready
.ready: lodsb
        test al, al
        jz .keys
        mov dx, COM1
        out dx, al
        jmp .ready
.keys:  xor ah, ah              ; wait for a key: AL = ASCII, AH = scan code
        int 16h
        test al, al
        jz .keys                ; no ASCII (arrows, F keys): not echoed
        mov dx, COM1
        out dx, al
        mov ah, 0Eh             ; teletype: prints AL, moves the cursor
        mov bx, 000Eh           ; page 0, yellow (graphics modes only)
        int 10h
        jmp .keys

ready:  db `VSA-KEYS-READY\n`, 0

        times 510 - ($ - $$) db 0
        dw 0AA55h
        times DISK_SECTORS * 512 - ($ - $$) db 0
