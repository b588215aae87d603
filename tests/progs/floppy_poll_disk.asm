; SPDX-License-Identifier: GPL-2.0-or-later
;
; Floppy poll disk: a raw hard-disk image (booted from IDE 0:0) that watches
; floppy drive A: the way DOS does, through INT 13h, and reports on COM1
; what it finds, so a test can insert and eject disks while it runs
; (tests/appliance/test_zeep_floppy.py):
;
;   FDPOLL: ready             COM1 works; polling starts
;   FDPOLL: read <16 bytes>   a read of sector 0 (C0 H0 S1) of drive 0
;                             succeeded and its first 16 bytes differ from
;                             the last ones printed (the test's disks start
;                             with a printable 16-byte marker)
;   FDPOLL: no disk           a read failed after one had succeeded (the
;                             drive emptied); the next disk is printed even
;                             if it is the same as before
;
; Between polls it resets the drive after a failure (INT 13h AH=00h, as
; DOS does after a disk-change error) and waits two timer ticks (HLT).
;
; Image: 2 cylinders x 16 heads x 63 sectors (1008 KiB), like counter_disk.

bits 16
org 7C00h

%include "com1.asm"

TICKS           equ 46Ch
DISK_SECTORS    equ 2 * 16 * 63
BUFFER          equ 8000h               ; the sector read
LAST            equ 8400h               ; the marker last printed, NUL-terminated

start:
        jmp 0:main
main:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        sti
        cld
        com1_init
        mov byte [LAST], 0
        mov byte [LAST + 16], 0
        mov byte [had_disk], 0
        mov si, ready
        call print_si

poll:
        mov ax, 0201h                   ; read one sector
        mov cx, 0001h                   ; cylinder 0, sector 1
        xor dx, dx                      ; head 0, drive 0 (A:)
        mov bx, BUFFER
        int 13h
        jc .failed
        mov byte [had_disk], 1
        mov si, BUFFER
        mov di, LAST
        mov cx, 16
        repe cmpsb
        je .wait                        ; the same disk as before
        mov si, BUFFER
        mov di, LAST
        mov cx, 16
        rep movsb
        mov si, read
        call print_si
        mov si, LAST
        call print_si
        mov si, newline
        call print_si
        jmp .wait
.failed:
        xor ax, ax                      ; reset the drive
        xor dx, dx
        int 13h
        cmp byte [had_disk], 0
        je .wait
        mov byte [had_disk], 0
        mov byte [LAST], 0              ; print the next disk whatever it is
        mov si, nodisk
        call print_si
.wait:
        mov ebx, [TICKS]
        add ebx, 2
.tick:  hlt
        cmp ebx, [TICKS]
        ja .tick
        jmp poll

        com1_print_routines

ready:  db `FDPOLL: ready\n`, 0
read:   db "FDPOLL: read ", 0
nodisk: db `FDPOLL: no disk\n`, 0
newline: db `\n`, 0
had_disk: db 0

        times 510 - ($ - $$) db 0
        dw 0AA55h
        times DISK_SECTORS * 512 - ($ - $$) db 0
