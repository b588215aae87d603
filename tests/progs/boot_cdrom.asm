; SPDX-License-Identifier: GPL-2.0-or-later
;
; Boot CD test: a whole ISO 9660 image with an El Torito "no emulation"
; boot entry, assembled by nasm alone (no mkisofs/xorriso at build time).
; SeaBIOS finds the boot record volume descriptor at sector 17, reads the
; boot catalog, loads the boot image to 07C0:0000 and jumps to it with the
; CD's drive number (E0h) in DL. The program then reads the CD through
; INT 13h AH=42h (2048-byte sectors, the BIOS's ATAPI READ(10) path) and
; reports on COM1:
;
;   [cdboot] started        the BIOS booted the image
;   [cdboot] edd            INT 13h AH=41h knows the drive
;   [cdboot] pvd            sector 16 holds the primary volume descriptor
;   [cdboot] data           sectors 24 and 25 read in one call match
;   VSA-CDBOOT-OK           then power off ("Shutdown" to port 8900h)
;
; A failure prints "VSA-CDBOOT-FAIL <step>" and powers off the same way.
;
; Image layout (2048-byte sectors): 0-15 system area (zeros), 16 primary
; volume descriptor, 17 El Torito boot record, 18 set terminator, 19/20
; the L and M path tables, 21 the root directory, 22 the boot catalog, 23
; the boot image (one sector, loaded as four 512-byte virtual sectors),
; 24-25 data sectors with known contents, 26-31 padding.

%define ISO_VOLUME_ID "VSA_CDBOOT"
DATA_LBA        equ 24
IMAGE_SECTORS   equ 32

BUFFER          equ 8000h
dap             equ 600h

%macro PRINT 1
        call print_inline
        db %1, 0
%endmacro
%macro FAIL 1
        call fail_inline
        db %1, 0
%endmacro

%include "com1.asm"
%include "iso_eltorito.asm"

; ---- 23: the boot image --------------------------------------------------------
section boot start=BOOT_LBA*SECTOR vstart=7C00h
bits 16
        jmp 0:start                     ; SeaBIOS enters at 07C0:0000
start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        sti
        cld
        mov [drive], dl
        mov ah, 0                       ; INT 14h: COM1 9600 8N1
        mov al, 0E3h
        xor dx, dx
        int 14h
        PRINT `[cdboot] started\n`

        mov ah, 41h
        mov bx, 55AAh
        mov dl, [drive]
        int 13h
        jc .no_edd
        cmp bx, 0AA55h
        je .edd
.no_edd:
        FAIL "edd"
.edd:   PRINT `[cdboot] edd\n`

        mov ax, PVD_LBA
        mov cx, 1
        call read
        jc .read_fail
        mov si, cd001
        mov di, BUFFER + 1
        mov cx, 5
        repe cmpsb
        je .pvd
        FAIL "pvd"
.read_fail:
        FAIL "read"
.pvd:   PRINT `[cdboot] pvd\n`

        mov ax, DATA_LBA
        mov cx, 2
        call read
        jc .read_fail
        mov si, data_marker_0
        mov di, BUFFER
        mov cx, data_marker_len
        repe cmpsb
        jne .bad_data
        mov si, data_marker_1
        mov di, BUFFER + SECTOR
        mov cx, data_marker_len
        repe cmpsb
        jne .bad_data
        cmp byte [BUFFER + 2 * SECTOR - 1], 0A5h
        je .data
.bad_data:
        FAIL "data"
.data:  PRINT `[cdboot] data\n`
        PRINT `VSA-CDBOOT-OK\n`
        jmp power_off

; read: CX sectors from LBA AX to 0000:BUFFER through INT 13h AH=42h.
read:
        mov byte [dap], 16
        mov byte [dap + 1], 0
        mov [dap + 2], cx
        mov word [dap + 4], BUFFER
        mov word [dap + 6], 0
        mov [dap + 8], ax
        mov word [dap + 10], 0
        mov dword [dap + 12], 0
        mov ah, 42h
        mov dl, [drive]
        mov si, dap
        int 13h
        ret

com1_print_routines

; fail_inline: "VSA-CDBOOT-FAIL <the string after the CALL>", power off.
fail_inline:
        pop bx
        mov si, fail_text
        call print_si
        mov si, bx
        call print_si
        mov si, newline
        call print_si
        ; fall through
power_off_routine

drive:          db 0
cd001:          db "CD001"
data_marker_0:  db "VSA-CD-DATA-24!!"
data_marker_len equ $ - data_marker_0
data_marker_1:  db "VSA-CD-DATA-25!!"
fail_text:      db "VSA-CDBOOT-FAIL ", 0
newline:        db 10, 0

        times SECTOR - ($ - $$) db 0

; ---- 24, 25: data sectors; padding up to IMAGE_SECTORS -------------------------
section data start=DATA_LBA*SECTOR
        db "VSA-CD-DATA-24!!"
        times SECTOR - ($ - $$) db 5Ah
        db "VSA-CD-DATA-25!!"
        times 2 * SECTOR - 1 - ($ - $$) db 5Ah
        db 0A5h
        times (IMAGE_SECTORS - DATA_LBA) * SECTOR - ($ - $$) db 0
